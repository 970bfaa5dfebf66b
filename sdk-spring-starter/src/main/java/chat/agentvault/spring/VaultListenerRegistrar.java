package chat.agentvault.spring;

import chat.agentvault.channel.InboundMessage;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.context.ApplicationListener;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Finds {@link VaultListener} methods on singleton beans as they are initialized, and calls the
 * matching ones for each {@link AgentVaultMessageEvent}.
 */
final class VaultListenerRegistrar implements BeanPostProcessor, BeanFactoryAware,
    ApplicationListener<AgentVaultMessageEvent> {
  private static final Logger log = LoggerFactory.getLogger(VaultListenerRegistrar.class);

  /** One annotated method of one bean, with its resolved filters ("" matches everything). */
  record Endpoint(Object bean, Method method, String room, String messageType) {
    boolean matches(InboundMessage m) {
      return (room.isEmpty() || room.equals(m.roomId()))
          && (messageType.isEmpty() || messageType.equals(m.messageType()));
    }

    @Override
    public String toString() {
      return method.getDeclaringClass().getSimpleName() + "." + method.getName()
          + "(room=" + (room.isEmpty() ? "*" : room) + ", messageType=" + (messageType.isEmpty() ? "*" : messageType) + ")";
    }
  }

  private final List<Endpoint> endpoints = new CopyOnWriteArrayList<>();
  private ConfigurableBeanFactory beanFactory;

  @Override
  public void setBeanFactory(BeanFactory beanFactory) {
    if (beanFactory instanceof ConfigurableBeanFactory c) {
      this.beanFactory = c;
    }
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
    Class<?> type = AopUtils.getTargetClass(bean);
    if (!AnnotationUtils.isCandidateClass(type, VaultListener.class)) {
      return bean;
    }
    Map<Method, VaultListener> found = MethodIntrospector.selectMethods(type,
        (MethodIntrospector.MetadataLookup<VaultListener>) m -> AnnotatedElementUtils.findMergedAnnotation(m, VaultListener.class));
    if (found.isEmpty()) {
      return bean;
    }
    if (beanFactory != null && beanFactory.containsBean(beanName) && !beanFactory.isSingleton(beanName)) {
      throw new IllegalStateException("@VaultListener methods need a singleton bean; '" + beanName + "' is not");
    }
    found.forEach((method, annotation) -> {
      check(method);
      Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
      ReflectionUtils.makeAccessible(invocable);
      Endpoint e = new Endpoint(bean, invocable, resolve(annotation.room()), resolve(annotation.messageType()));
      endpoints.add(e);
      log.debug("@VaultListener {} on bean '{}'", e, beanName);
    });
    return bean;
  }

  private static void check(Method m) {
    if (m.getParameterCount() != 1 || !m.getParameterTypes()[0].isAssignableFrom(InboundMessage.class)
        || m.getReturnType() != void.class || Modifier.isStatic(m.getModifiers())) {
      throw new IllegalStateException("@VaultListener method " + m.getDeclaringClass().getName() + "." + m.getName()
          + " must be a void instance method taking one InboundMessage");
    }
  }

  private String resolve(String value) {
    String v = beanFactory == null ? value : beanFactory.resolveEmbeddedValue(value);
    return v == null ? "" : v.strip();
  }

  /** The registered methods (tests, diagnostics). */
  List<Endpoint> endpoints() {
    return List.copyOf(endpoints);
  }

  @Override
  public void onApplicationEvent(AgentVaultMessageEvent event) {
    InboundMessage m = event.message();
    for (Endpoint e : endpoints) {
      if (!e.matches(m)) {
        continue;
      }
      try {
        e.method().invoke(e.bean(), m);
      } catch (InvocationTargetException ex) {
        log.error("@VaultListener {} failed on {}", e, m, ex.getCause());
      } catch (IllegalAccessException ex) {
        log.error("@VaultListener {} not callable", e, ex);
      }
    }
  }

  @Override
  public String toString() {
    return "VaultListenerRegistrar" + endpoints;
  }
}
