namespace ChatKit.LoadGen.Load;

/// <summary>Who is in which room, and who sends: message k goes from <c>Senders[k % n]</c> to one of that sender's rooms in turn.</summary>
internal sealed class RoomLayout
{
    private readonly int _stride;

    private RoomLayout(string name, int users, int[][] rooms, int[] senders, int stride)
    {
        Name = name;
        _stride = stride;
        Users = users;
        Rooms = rooms;
        Senders = senders;
        var roomsOfUser = Enumerable.Range(0, users).Select(_ => new List<int>()).ToArray();
        for (var r = 0; r < rooms.Length; r++)
        {
            foreach (var member in rooms[r])
            {
                roomsOfUser[member].Add(r);
            }
        }

        RoomsOfUser = roomsOfUser.Select(l => l.ToArray()).ToArray();
    }

    public string Name { get; }

    public int Users { get; }

    public int[][] Rooms { get; }

    public int[][] RoomsOfUser { get; }

    public int[] Senders { get; }

    /// <summary>Average deliveries per message (every member receives it, the sender included).</summary>
    public double Fanout => Senders.Average(s => RoomsOfUser[s].Average(r => Rooms[r].Length));

    /// <summary>Scenario A: one room of <paramref name="members"/>, the first <paramref name="senders"/> of them sending.</summary>
    public static RoomLayout OneRoom(int members, int senders) =>
        new($"1 room of {members:N0} members", members, [Enumerable.Range(0, members).ToArray()], Enumerable.Range(0, Math.Min(senders, members)).ToArray(), stride: 1);

    /// <summary>
    /// Scenario B: <paramref name="users"/> users, each in <paramref name="roomsPerUser"/> rooms of <paramref name="roomSize"/>
    /// members (room r holds users r, r + users/size, r + 2·users/size, ...); every user sends, to each of their rooms in turn.
    /// </summary>
    public static RoomLayout SmallRooms(int users, int roomSize, int roomsPerUser)
    {
        var roomCount = users * roomsPerUser / roomSize;
        var stride = users / roomSize;
        var rooms = Enumerable.Range(0, roomCount).Select(r => Enumerable.Range(0, roomSize).Select(k => (r + (k * stride)) % users).ToArray()).ToArray();
        return new RoomLayout($"{roomCount:N0} rooms of {roomSize} members", users, rooms, Enumerable.Range(0, users).ToArray(), stride);
    }

    /// <summary>
    /// The node user <paramref name="user"/> connects to, of <paramref name="nodes"/>: every room's members are spread
    /// over the nodes as evenly as its size allows (user % nodes would put every member of a small room on one node
    /// whenever the stride between its members is a multiple of the node count).
    /// </summary>
    public int NodeOf(int user, int nodes) => user / _stride % nodes;

    public (int Sender, int Room) Pick(long message)
    {
        var sender = Senders[message % Senders.Length];
        var rooms = RoomsOfUser[sender];
        return (sender, rooms[(message / Senders.Length) % rooms.Length]);
    }
}
