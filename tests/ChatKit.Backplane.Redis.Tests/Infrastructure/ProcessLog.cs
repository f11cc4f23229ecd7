using System.Diagnostics;
using System.Text;

namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>Everything a started process writes to stdout and stderr, kept for failure messages.</summary>
internal sealed class ProcessLog
{
    private readonly StringBuilder _text = new();

    /// <summary>Starts reading <paramref name="process"/>'s output; <paramref name="onLine"/> sees each line as it comes.</summary>
    public ProcessLog(Process process, Action<string>? onLine = null)
    {
        DataReceivedEventHandler record = (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (_text)
            {
                _text.AppendLine(line.Data);
            }

            onLine?.Invoke(line.Data);
        };
        process.OutputDataReceived += record;
        process.ErrorDataReceived += record;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }
}
