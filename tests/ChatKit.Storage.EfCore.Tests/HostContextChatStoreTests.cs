using ChatKit.Core.Tests.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Storage.EfCore.Tests;

/// <summary>ChatKit's tables inside a host's own context, created by that context's model (as its migrations would).</summary>
public sealed class HostContextChatStoreTests : ChatStoreSpecification
{
    protected override async Task<IChatStore> CreateStoreAsync()
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<HostDbContext>(o => o.UseSqlite($"Data Source={StoreFactory.NewSqliteFile()};Pooling=False"));
        services.AddChatKitCore().AddEfCoreStorage<HostDbContext>();
        var provider = services.BuildServiceProvider();
        await using (var db = await provider.GetRequiredService<IDbContextFactory<HostDbContext>>().CreateDbContextAsync())
        {
            await db.Database.EnsureCreatedAsync();
            db.Orders.Add(new Order { Id = 1, Item = "the host's own data lives beside ChatKit's" });
            await db.SaveChangesAsync();
        }

        return provider.GetRequiredService<IChatStore>();
    }

    public sealed class Order
    {
        public int Id { get; set; }

        public required string Item { get; set; }
    }

    public sealed class HostDbContext(DbContextOptions<HostDbContext> options) : DbContext(options)
    {
        public DbSet<Order> Orders => Set<Order>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.ApplyChatKitModel();
    }
}
