import { fromBase64Url, toBase64Url } from './bytes.js';
import { EncryptedBody } from './encrypted-body.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';
import { EnvelopeEntry } from './envelope-entry.js';
import { EnvelopeKind } from './envelope-kind.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

/**
 * What an encrypted message body holds, behind `EncryptedBody.prefix`: the sending device and either one pairwise
 * ratchet message per receiving device (`EnvelopeKind.Direct` content, `EnvelopeKind.Keys` sender key distributions)
 * or one sender key message for all (`EnvelopeKind.Group`). Layout (big-endian): kind byte, sender device (uint16
 * length + UTF-8), entry count (uint32), each entry as user, device (uint16 length + UTF-8) and message (uint32 length
 * + bytes), then for group envelopes the sender key message (uint32 length + bytes).
 */
export class EncryptedEnvelope {
  /**
   * @param kind what the envelope carries.
   * @param senderDevice the device that sent it (the sending user is the message's sender, as the server vouches).
   * @param entries the pairwise messages, one per receiving device.
   * @param groupMessage the sender key message of a group envelope, otherwise empty.
   */
  constructor(
    readonly kind: EnvelopeKind,
    readonly senderDevice: string,
    readonly entries: readonly EnvelopeEntry[],
    readonly groupMessage: Uint8Array,
  ) {}

  /** The message body: the prefix and the base64url (unpadded) of the envelope. */
  toBody(): string {
    const writer = new WireWriter().byte(this.kind).text(this.senderDevice).uint32(this.entries.length);
    for (const entry of this.entries) writer.text(entry.user).text(entry.device).blob(entry.message);
    if (this.kind === EnvelopeKind.Group) writer.blob(this.groupMessage);
    return EncryptedBody.prefix + toBase64Url(writer.toArray());
  }

  /** Reads a message body; throws `EncryptionException` (`malformed`) when it is not an envelope. */
  static parse(body: string): EncryptedEnvelope {
    if (!body.startsWith(EncryptedBody.prefix)) {
      throw new EncryptionException(EncryptionErrorCodes.Malformed, `The body is not an encrypted envelope: it does not start with '${EncryptedBody.prefix}'.`);
    }
    const bytes = fromBase64Url(body.slice(EncryptedBody.prefix.length));
    if (!bytes) throw new EncryptionException(EncryptionErrorCodes.Malformed, 'The envelope is not base64url.');
    const reader = new WireReader(bytes, 'encrypted envelope');
    const kind = reader.byte();
    if (kind !== EnvelopeKind.Direct && kind !== EnvelopeKind.Group && kind !== EnvelopeKind.Keys) throw reader.malformed();
    const device = reader.text();
    const count = reader.uint32();
    if (count > bytes.length) throw reader.malformed();
    const entries: EnvelopeEntry[] = [];
    for (let i = 0; i < count; i++) entries.push(new EnvelopeEntry(reader.text(), reader.text(), reader.blob()));
    const group = kind === EnvelopeKind.Group ? reader.blob() : new Uint8Array();
    reader.end();
    return new EncryptedEnvelope(kind, device, entries, group);
  }

  /** The entry for one device, or null when the envelope has none for it. */
  for(user: string, device: string): EnvelopeEntry | null {
    return this.entries.find((e) => e.user === user && e.device === device) ?? null;
  }
}
