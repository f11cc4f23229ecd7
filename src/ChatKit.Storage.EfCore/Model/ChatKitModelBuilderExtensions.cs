using ChatKit.Storage.EfCore.Model;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Applies ChatKit's tables to any <see cref="DbContext"/>.</summary>
public static class ChatKitModelBuilderExtensions
{
    /// <summary>Field lengths the tables enforce; the engine checks them before anything reaches SQL.</summary>
    internal const int IdLength = 128;

    /// <summary>The longest device id.</summary>
    internal const int DeviceIdLength = 64;

    /// <summary>
    /// Adds ChatKit's tables (<c>chatkit_users</c>, <c>chatkit_rooms</c>, <c>chatkit_members</c>,
    /// <c>chatkit_messages</c>, and the key directory's <c>chatkit_devices</c> and <c>chatkit_one_time_prekeys</c>)
    /// to a model. Call it from <c>OnModelCreating</c> of a host's own context, then register that context with
    /// <c>AddEfCoreStorage&lt;TContext&gt;()</c>; the host's migrations then create the tables.
    /// </summary>
    public static ModelBuilder ApplyChatKitModel(this ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        modelBuilder.Entity<ChatUserRow>(user =>
        {
            user.ToTable("chatkit_users");
            user.HasKey(u => u.Id);
            user.Property(u => u.Id).HasColumnName("id").HasMaxLength(IdLength);
            user.Property(u => u.DisplayName).HasColumnName("display_name").HasMaxLength(100);
            user.Property(u => u.LastSeenMs).HasColumnName("last_seen_ms");
        });

        modelBuilder.Entity<ChatRoomRow>(room =>
        {
            room.ToTable("chatkit_rooms");
            room.HasKey(r => r.Id);
            room.Property(r => r.Id).HasColumnName("id").HasMaxLength(64);
            room.Property(r => r.Kind).HasColumnName("kind");
            room.Property(r => r.Name).HasColumnName("name").HasMaxLength(100);
            room.Property(r => r.Visibility).HasColumnName("visibility");
            room.Property(r => r.CreatedBy).HasColumnName("created_by").HasMaxLength(IdLength);
            room.Property(r => r.CreatedAtMs).HasColumnName("created_at_ms");
            room.Property(r => r.LastSequence).HasColumnName("last_sequence");
            room.Property(r => r.Encrypted).HasColumnName("encrypted");

            // The public room list: newest public group rooms first.
            room.HasIndex(r => new { r.Visibility, r.Kind, r.CreatedAtMs }).HasDatabaseName("ix_chatkit_rooms_public");
        });

        modelBuilder.Entity<ChatMemberRow>(member =>
        {
            member.ToTable("chatkit_members");

            // Keyed room first (members of a room), indexed user first (rooms of a user).
            member.HasKey(m => new { m.RoomId, m.UserId });
            member.HasIndex(m => new { m.UserId, m.RoomId }).HasDatabaseName("ix_chatkit_members_user");
            member.Property(m => m.RoomId).HasColumnName("room_id").HasMaxLength(64);
            member.Property(m => m.UserId).HasColumnName("user_id").HasMaxLength(IdLength);
            member.Property(m => m.Role).HasColumnName("role");
            member.Property(m => m.JoinedAtMs).HasColumnName("joined_at_ms");
            member.Property(m => m.DeliveredSequence).HasColumnName("delivered_sequence");
            member.Property(m => m.ReadSequence).HasColumnName("read_sequence");
        });

        modelBuilder.Entity<ChatMessageRow>(message =>
        {
            message.ToTable("chatkit_messages");

            // History pages are ranges of this key; the unique index makes a client message id count once per room.
            message.HasKey(m => new { m.RoomId, m.Sequence });
            message.HasIndex(m => new { m.RoomId, m.ClientMessageId }).IsUnique().HasDatabaseName("ux_chatkit_messages_cmid");
            message.HasIndex(m => new { m.RoomId, m.SentAtMs }).HasDatabaseName("ix_chatkit_messages_time");
            message.Property(m => m.RoomId).HasColumnName("room_id").HasMaxLength(64);
            message.Property(m => m.Sequence).HasColumnName("sequence");
            message.Property(m => m.ClientMessageId).HasColumnName("client_message_id").HasMaxLength(64);
            message.Property(m => m.SenderId).HasColumnName("sender_id").HasMaxLength(IdLength);
            message.Property(m => m.Body).HasColumnName("body");
            message.Property(m => m.SentAtMs).HasColumnName("sent_at_ms");
        });

        modelBuilder.Entity<ChatDeviceRow>(device =>
        {
            device.ToTable("chatkit_devices");
            device.HasKey(d => new { d.UserId, d.DeviceId });
            device.Property(d => d.UserId).HasColumnName("user_id").HasMaxLength(IdLength);
            device.Property(d => d.DeviceId).HasColumnName("device_id").HasMaxLength(DeviceIdLength);
            device.Property(d => d.SigningKey).HasColumnName("signing_key");
            device.Property(d => d.IdentityKey).HasColumnName("identity_key");
            device.Property(d => d.IdentitySignature).HasColumnName("identity_signature");
            device.Property(d => d.SignedPreKeyId).HasColumnName("signed_prekey_id");
            device.Property(d => d.SignedPreKey).HasColumnName("signed_prekey");
            device.Property(d => d.SignedPreKeySignature).HasColumnName("signed_prekey_signature");
            device.Property(d => d.UpdatedAtMs).HasColumnName("updated_at_ms");
        });

        modelBuilder.Entity<ChatOneTimePreKeyRow>(key =>
        {
            // Claims take a device's keys in key id order: the key's prefix is the device.
            key.ToTable("chatkit_one_time_prekeys");
            key.HasKey(k => new { k.UserId, k.DeviceId, k.KeyId });
            key.Property(k => k.UserId).HasColumnName("user_id").HasMaxLength(IdLength);
            key.Property(k => k.DeviceId).HasColumnName("device_id").HasMaxLength(DeviceIdLength);
            key.Property(k => k.KeyId).HasColumnName("key_id");
            key.Property(k => k.PublicKey).HasColumnName("public_key");
        });

        return modelBuilder;
    }
}
