namespace ChatKit.Benchmarks;

/// <summary>One store's figures.</summary>
internal sealed record StorageResult(string Store, int Sends, double SendsPerSecond, int? HistoryRoomSize, double? HistoryP50Ms, double? HistoryP99Ms);
