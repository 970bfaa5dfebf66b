/**
 * Not API. The KeyPackage lifecycle (RFC 9420 §10): creating signed KeyPackages with their private
 * keys ({@link chat.agentvault.mls.keys.KeyPackageBundle}), validating received ones (§10.1,
 * {@link chat.agentvault.mls.keys.KeyPackageValidator}), KeyPackageRefs (§5.2), last-resort
 * KeyPackages (draft-ietf-mls-extensions, extension {@code last_resort} = 0x000A) and a store of
 * the private halves keyed by reference, with rotation helpers. The public MLS API may later
 * re-export a store interface from here; until then nothing in this package is API.
 */
package chat.agentvault.mls.keys;
