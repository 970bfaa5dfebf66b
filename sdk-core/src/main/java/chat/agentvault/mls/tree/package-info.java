/** Not API. The ratchet tree of RFC 9420 §4 and §7: array representation (Appendix C), nodes, hashes, TreeKEM. */
package chat.agentvault.mls.tree;
