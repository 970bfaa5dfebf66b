/**
 * Spring Boot auto-configuration of an AgentVault {@link chat.agentvault.channel.AgentClient}:
 * {@link chat.agentvault.spring.AgentVaultProperties} ({@code agentvault.*}), a lifecycle that
 * starts the client in the background and closes it with the context, inbound messages as
 * {@link chat.agentvault.spring.AgentVaultMessageEvent}s and
 * {@link chat.agentvault.spring.VaultListener} methods, and a health indicator.
 */
package chat.agentvault.spring;
