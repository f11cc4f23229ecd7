using ChatKit.LoadGen.Load;

namespace ChatKit.LoadGen;

/// <summary>The scenarios of the comparison and their load steps.</summary>
internal static class Scenarios
{
    public static RoomLayout Layout(string scenario) => scenario.ToUpperInvariant() switch
    {
        // One room of 1,000 members, 10 of them sending in turn.
        "A" => RoomLayout.OneRoom(1_000, senders: 10),
        // 1,000 users each in 10 rooms of 10 members (1,000 rooms); every user sends, to each of their rooms in turn.
        "B" => RoomLayout.SmallRooms(1_000, roomSize: 10, roomsPerUser: 10),
        // The smoke test: 20 users in 4 rooms of 5.
        "SMALL" => RoomLayout.SmallRooms(20, roomSize: 5, roomsPerUser: 1),
        _ => throw new UsageException($"Unknown scenario '{scenario}' (A, B or small)."),
    };

    /// <summary>The first offered load of a ramp, in messages per second (doubled while the system keeps up).</summary>
    public static double FirstRate(string scenario) => string.Equals(scenario, "A", StringComparison.OrdinalIgnoreCase) ? 25 : 500;
}
