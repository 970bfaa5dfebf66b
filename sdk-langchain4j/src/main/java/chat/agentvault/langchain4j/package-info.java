/**
 * LangChain4j for AgentVault agents (issue 8): {@link chat.agentvault.langchain4j.AgentVaultTools}
 * ({@code @Tool} methods over an {@code AgentClient}), {@link
 * chat.agentvault.langchain4j.AgentRunner} (each inbound message becomes a turn of an {@code
 * AiServices} assistant whose answer is sent back) and {@link
 * chat.agentvault.langchain4j.EncryptedChatMemoryStore} (chat memory encrypted in the data
 * directory). Everything else here is package-private.
 */
package chat.agentvault.langchain4j;
