/** Not API. The MLS key schedule (RFC 9420 §8), PSK secret (§8.4), transcript hashes (§8.2) and secret tree (§9). */
package chat.agentvault.mls.schedule;
