namespace ChatKit.LoadGen.Reporting;

/// <summary>
/// The blocks of docs/benchmarks.md, for this load generator and benchmarks/ChatKit.Benchmarks (linked there): a measured block lives between
/// <c>&lt;!-- name:begin --&gt;</c> and <c>&lt;!-- name:end --&gt;</c> and is rewritten by each run; a block not yet in the
/// document is appended under its heading. Prose around the blocks is written by hand and kept.
/// </summary>
internal static class DocumentBlocks
{
    public static void Replace(string path, string name, string heading, string block)
    {
        var begin = $"<!-- {name}:begin -->";
        var end = $"<!-- {name}:end -->";
        var document = File.Exists(path) ? File.ReadAllText(path) : "# ChatKit benchmarks\n";
        var start = document.IndexOf(begin, StringComparison.Ordinal);
        var stop = document.IndexOf(end, StringComparison.Ordinal);
        var measured = $"{begin}\n{block}{end}";
        document = start >= 0 && stop > start
            ? string.Concat(document.AsSpan(0, start), measured, document.AsSpan(stop + end.Length))
            : $"{document.TrimEnd()}\n\n## {heading}\n\n{measured}\n";
        File.WriteAllText(path, document);
    }
}
