using Microsoft.EntityFrameworkCore;

namespace ChatKit.Storage.EfCore;

/// <summary>ChatKit's own context, used when the host lets ChatKit own its tables (the usual case).</summary>
public sealed class ChatKitDbContext(DbContextOptions<ChatKitDbContext> options) : DbContext(options)
{
    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.ApplyChatKitModel();
}
