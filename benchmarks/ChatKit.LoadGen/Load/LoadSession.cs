using ChatKit.LoadGen.Measurement;

namespace ChatKit.LoadGen.Load;

/// <summary>What every connection of a run shares: the step being recorded and counters of frames, errors and closes.</summary>
internal sealed class LoadSession
{
    private StepRecorder? _recorder;
    private long _frames;
    private long _acks;
    private long _errors;
    private long _closed;
    private string? _firstError;

    public StepRecorder? Recorder
    {
        get => Volatile.Read(ref _recorder);
        set => Volatile.Write(ref _recorder, value);
    }

    /// <summary>WebSocket messages received (of any kind): a run waits for this to stop moving before it measures.</summary>
    public long Frames => Interlocked.Read(ref _frames);

    /// <summary>Acknowledgements of sends (ChatKit replies, SignalR completions, Socket.IO acks).</summary>
    public long Acks => Interlocked.Read(ref _acks);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Connections that ended while the run still needed them.</summary>
    public long Closed => Interlocked.Read(ref _closed);

    public string? FirstError => Volatile.Read(ref _firstError);

    public void OnFrame() => Interlocked.Increment(ref _frames);

    public void OnAck() => Interlocked.Increment(ref _acks);

    public void OnError(string description)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, description, null);
    }

    public void OnClosed(string description)
    {
        Interlocked.Increment(ref _closed);
        Interlocked.CompareExchange(ref _firstError, description, null);
    }
}
