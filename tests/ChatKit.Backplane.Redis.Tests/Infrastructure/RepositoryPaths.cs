namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>Where the tests find the repository's samples, from the test assembly's folder.</summary>
internal static class RepositoryPaths
{
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "ChatKit.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"ChatKit.sln not found above {AppContext.BaseDirectory}.");
        }
    }
}
