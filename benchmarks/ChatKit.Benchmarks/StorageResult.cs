namespace ChatKit.Benchmarks;

/// <summary>One store's figures: sends per second for each number of concurrent senders, and history page latencies.</summary>
internal sealed record StorageResult(string Store, int Sends, IReadOnlyList<double> SendsPerSecond, int? HistoryRoomSize, double? ColdP99Ms, double? WarmP50Ms, double? WarmP99Ms);
