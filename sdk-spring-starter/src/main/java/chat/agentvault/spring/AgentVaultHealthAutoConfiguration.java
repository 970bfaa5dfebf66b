package chat.agentvault.spring;

import chat.agentvault.channel.AgentClient;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@link AgentVaultHealthIndicator}, when Spring Boot's health support is on the classpath
 * (spring-boot-health, which spring-boot-starter-actuator brings). Turn it off with
 * {@code management.health.agentvault.enabled=false}; replace it with a bean named
 * {@value #BEAN}.
 */
@AutoConfiguration(after = AgentVaultAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnSingleCandidate(AgentClient.class)
@ConditionalOnEnabledHealthIndicator("agentvault")
public class AgentVaultHealthAutoConfiguration {
  /** The bean name; the health endpoint shows it as {@code agentvault}. */
  public static final String BEAN = "agentvaultHealthIndicator";

  @Bean(name = BEAN)
  @ConditionalOnMissingBean(name = BEAN)
  AgentVaultHealthIndicator agentvaultHealthIndicator(AgentClient client, ObjectProvider<AgentVaultLifecycle> lifecycle) {
    return new AgentVaultHealthIndicator(client, lifecycle.getIfAvailable());
  }
}
