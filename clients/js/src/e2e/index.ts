// @chatkit/client/e2e: ChatKit's end-to-end encryption core on WebCrypto, byte-compatible with the .NET
// ChatKit.Encryption namespace (docs/encryption.md): one class per .NET type, the same names, error codes and state
// bytes, so sessions and keys move between the two implementations.

export { AcceptedHandshake } from './accepted-handshake.js';
export { DeviceIdentityKey } from './device-identity-key.js';
export { DeviceKeys } from './device-keys.js';
export { EncryptedBody } from './encrypted-body.js';
export { EncryptedEnvelope } from './encrypted-envelope.js';
export { EncryptionErrorCodes } from './encryption-error-codes.js';
export type { EncryptionErrorCode } from './encryption-error-codes.js';
export { EncryptionException } from './encryption-exception.js';
export { EnvelopeEntry } from './envelope-entry.js';
export { EnvelopeKind } from './envelope-kind.js';
export { OneTimePreKey } from './one-time-pre-key.js';
export { PreKeyBundle } from './pre-key-bundle.js';
export { RatchetSession } from './ratchet-session.js';
export type { KeyPairSource } from './ratchet-session.js';
export { SafetyNumber } from './safety-number.js';
export { SenderKeyChain } from './sender-key-chain.js';
export { SenderKeyReceiver } from './sender-key-receiver.js';
export { SignedPreKey } from './signed-pre-key.js';

// The client side: a device of the signed-in user on top of a ChatClient (docs/encryption.md, "Using it").
export { EndToEndEncryption, ONE_TIME_PREKEY_BATCH, SIGNED_PREKEY_LIFETIME_MS } from '../endtoend/encryption.js';
export type { EncryptionEvents, EndToEndEncryptionOptions, UndecryptableMessage } from '../endtoend/encryption.js';
export { IndexedDbStateStore, MemoryStateStore } from '../endtoend/store.js';
export type { EncryptionStateStore } from '../endtoend/store.js';
export type { Fetch } from '../endtoend/directory.js';

// The building blocks (internal in .NET): what the known-answer vectors exercise one by one.
export { EcKeyPair } from './ec-key-pair.js';
export { Kdf } from './kdf.js';
export { MessageCipher } from './message-cipher.js';
export { P256 } from './p256.js';
export { WireReader } from './wire-reader.js';
export { WireWriter } from './wire-writer.js';
