using System.Globalization;
using System.Net;
using System.Text;
using ChatKit.LoadGen.Load;

namespace ChatKit.LoadGen.Reporting;

/// <summary>
/// The SVG of p99 latency against offered load: one panel per scenario, both axes logarithmic, one line per system,
/// filled points where the step passed (p99 under 50 ms, everything delivered), hollow where it did not, and the 50 ms bar.
/// </summary>
internal static class LatencyPlot
{
    private const int PanelWidth = 520;
    private const int PanelHeight = 360;
    private const int Left = 85;
    private const int Top = 40;
    private const int Bottom = 50;
    private const int Gap = 110;
    private const int LegendColumn = 400;
    private const double MinMs = 0.1;
    private const double MaxMs = 10_000;

    private static readonly string[] Colors = ["#d62728", "#ff7f0e", "#8c564b", "#1f77b4", "#2ca02c", "#17becf", "#7f7f7f", "#9467bd"];

    public static string Render(IReadOnlyList<StepResult> steps, IReadOnlyList<(string Key, string Label)> systems, IReadOnlyList<(string Scenario, string Title)> scenarios)
    {
        var width = Math.Max(Left + (scenarios.Count * (PanelWidth + Gap)), Left + (2 * LegendColumn));
        var legendRows = (systems.Count + 1) / 2;
        var height = Top + PanelHeight + Bottom + 20 + (legendRows * 18);
        var svg = new StringBuilder();
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Inv($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"));
        for (var p = 0; p < scenarios.Count; p++)
        {
            var x0 = Left + (p * (PanelWidth + Gap));
            var panel = steps.Where(s => s.Scenario == scenarios[p].Scenario && s.P99Ms > 0 && !double.IsNaN(s.P99Ms)).ToList();
            DrawPanel(svg, x0, scenarios[p].Title, panel, systems);
        }

        var legendTop = Top + PanelHeight + Bottom + 10;
        for (var i = 0; i < systems.Count; i++)
        {
            var x = Left + ((i % 2) * LegendColumn);
            var y = legendTop + ((i / 2) * 18);
            svg.Append(Inv($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 24}\" y2=\"{y}\" stroke=\"{Colors[i % Colors.Length]}\" stroke-width=\"2\"/>"));
            svg.Append(Inv($"<text x=\"{x + 30}\" y=\"{y + 4}\">{WebUtility.HtmlEncode(systems[i].Label)}</text>\n"));
        }

        svg.Append("</svg>\n");
        return svg.ToString();

        void DrawPanel(StringBuilder s, int x0, string title, List<StepResult> panel, IReadOnlyList<(string Key, string Label)> lines)
        {
            var loads = panel.Select(r => r.OfferedDeliveriesPerSecond).DefaultIfEmpty(1_000).ToList();
            var minX = Math.Pow(10, Math.Floor(Math.Log10(loads.Min())));
            var maxX = Math.Pow(10, Math.Ceiling(Math.Log10(loads.Max() * 1.01)));
            double X(double load) => x0 + (PanelWidth * (Math.Log10(load) - Math.Log10(minX)) / (Math.Log10(maxX) - Math.Log10(minX)));
            double Y(double ms) => Top + (PanelHeight * (Math.Log10(MaxMs) - Math.Log10(Math.Clamp(ms, MinMs, MaxMs))) / (Math.Log10(MaxMs) - Math.Log10(MinMs)));

            s.Append(Inv($"<text x=\"{x0 + (PanelWidth / 2)}\" y=\"{Top - 15}\" text-anchor=\"middle\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>\n"));
            s.Append(Inv($"<rect x=\"{x0}\" y=\"{Top}\" width=\"{PanelWidth}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#333\"/>\n"));
            for (var ms = MinMs; ms <= MaxMs * 1.001; ms *= 10)
            {
                var y = Y(ms);
                s.Append(Inv($"<line x1=\"{x0}\" y1=\"{y:F1}\" x2=\"{x0 + PanelWidth}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>"));
                s.Append(Inv($"<text x=\"{x0 - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{ms:G} ms</text>\n"));
            }

            for (var load = minX; load <= maxX * 1.001; load *= 10)
            {
                var x = X(load);
                s.Append(Inv($"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{Top + PanelHeight}\" stroke=\"#ddd\"/>"));
                s.Append(Inv($"<text x=\"{x:F1}\" y=\"{Top + PanelHeight + 16}\" text-anchor=\"middle\">{Short(load)}</text>\n"));
            }

            s.Append(Inv($"<text x=\"{x0 + (PanelWidth / 2)}\" y=\"{Top + PanelHeight + 34}\" text-anchor=\"middle\">offered fan-out deliveries per second</text>\n"));
            s.Append(Inv($"<text x=\"{x0 - 68}\" y=\"{Top + (PanelHeight / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 {x0 - 68} {Top + (PanelHeight / 2)})\">p99 latency</text>\n"));
            var bar = Y(50);
            s.Append(Inv($"<line x1=\"{x0}\" y1=\"{bar:F1}\" x2=\"{x0 + PanelWidth}\" y2=\"{bar:F1}\" stroke=\"#000\" stroke-dasharray=\"6 4\"/>"));
            s.Append(Inv($"<text x=\"{x0 + PanelWidth - 4}\" y=\"{bar - 4:F1}\" text-anchor=\"end\">50 ms</text>\n"));
            for (var i = 0; i < lines.Count; i++)
            {
                var color = Colors[i % Colors.Length];
                var points = panel.Where(r => r.System == lines[i].Key).OrderBy(r => r.OfferedDeliveriesPerSecond).ToList();
                if (points.Count == 0)
                {
                    continue;
                }

                var path = string.Join(' ', points.Select(r => Inv($"{X(r.OfferedDeliveriesPerSecond):F1},{Y(r.P99Ms):F1}")));
                s.Append(Inv($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n"));
                foreach (var r in points)
                {
                    s.Append(Inv($"<circle cx=\"{X(r.OfferedDeliveriesPerSecond):F1}\" cy=\"{Y(r.P99Ms):F1}\" r=\"3.5\" stroke=\"{color}\" fill=\"{(r.Passed ? color : "white")}\"><title>{WebUtility.HtmlEncode(lines[i].Label)}: {r.OfferedDeliveriesPerSecond:N0}/s, p99 {r.P99Ms:F1} ms</title></circle>"));
                }

                s.Append('\n');
            }
        }
    }

    private static string Short(double value) => value >= 1_000_000 ? Inv($"{value / 1_000_000:G}M") : value >= 1_000 ? Inv($"{value / 1_000:G}k") : Inv($"{value:G}");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
