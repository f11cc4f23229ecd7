using System.Globalization;
using System.Text.Json;

namespace ChatKit.Core.Tests.Encryption;

/// <summary>
/// One Wycheproof vector file (Encryption/Vectors/wycheproof/*.json, copied to the output directory): its declared
/// number of tests and its cases, each with the group it belongs to (key sizes, public keys shared by the group).
/// </summary>
internal sealed class WycheproofFile
{
    private WycheproofFile(string name, JsonElement root)
    {
        Name = name;
        Algorithm = root.GetProperty("algorithm").GetString() ?? "";
        NumberOfTests = root.GetProperty("numberOfTests").GetInt32();
        var cases = new List<WycheproofCase>();
        foreach (var group in root.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                cases.Add(new WycheproofCase(group, test));
            }
        }

        Cases = cases;
    }

    public string Name { get; }

    public string Algorithm { get; }

    /// <summary>The file's own count of its tests ("numberOfTests").</summary>
    public int NumberOfTests { get; }

    public IReadOnlyList<WycheproofCase> Cases { get; }

    public static WycheproofFile Load(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Encryption", "Vectors", "wycheproof", fileName);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var file = new WycheproofFile(fileName, document.RootElement.Clone());
        if (file.Cases.Count != file.NumberOfTests)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{fileName} declares {file.NumberOfTests} tests but its groups hold {file.Cases.Count}."));
        }

        return file;
    }
}

/// <summary>One test of a Wycheproof file, with the group it belongs to.</summary>
internal sealed class WycheproofCase(JsonElement group, JsonElement test)
{
    public JsonElement Group { get; } = group;

    public JsonElement Test { get; } = test;

    public int TcId => Test.GetProperty("tcId").GetInt32();

    public string Comment => Test.GetProperty("comment").GetString() ?? "";

    /// <summary>"valid", "invalid" or "acceptable".</summary>
    public string Result => Test.GetProperty("result").GetString() ?? "";

    public bool IsValid => Result == "valid";

    public bool IsInvalid => Result == "invalid";

    public bool IsAcceptable => Result == "acceptable";

    public IReadOnlyList<string> Flags => [.. Test.GetProperty("flags").EnumerateArray().Select(flag => flag.GetString() ?? "")];

    /// <summary>A hex field of the test (an empty string is an empty array).</summary>
    public byte[] Hex(string name) => Convert.FromHexString(Test.GetProperty(name).GetString() ?? "");

    public int Int(string name) => Test.GetProperty(name).GetInt32();

    public int GroupInt(string name) => Group.GetProperty(name).GetInt32();

    /// <summary>How a failure names the case: tcId, result, comment and flags.</summary>
    public string Describe(string problem) => string.Create(
        CultureInfo.InvariantCulture,
        $"tcId {TcId} ({Result}, \"{Comment}\", flags [{string.Join(", ", Flags)}]): {problem}");
}
