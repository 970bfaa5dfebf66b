package chat.agentvault.relay;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5: one throwaway relay ({@link TestRelay#start()}: embedded PostgreSQL, a free port) for the
 * tests of a class, closed after them. It is put into the class's static fields of type
 * {@link TestRelay} before the class's own {@code @BeforeAll} methods run, so they can use it:
 *
 * <pre>{@code
 * @ExtendWith(TestRelayExtension.class)
 * class MyRelayTest {
 *   static TestRelay relay;
 *   ...
 * }
 * }</pre>
 *
 * <p>{@code @Nested} classes share their enclosing class's relay. JUnit is not a dependency of the
 * relay's runtime: the modules that use this class bring it.
 */
public final class TestRelayExtension implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TestRelayExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) throws IllegalAccessException {
    Class<?> type = context.getRequiredTestClass();
    if (type.isAnnotationPresent(Nested.class)) {
      return;
    }
    List<Field> fields = relayFields(type);
    if (fields.isEmpty()) {
      throw new ExtensionConfigurationException(type.getName() + " has no static field of type TestRelay");
    }
    TestRelay relay = TestRelay.start();
    context.getStore(NAMESPACE).put(type, relay);
    for (Field f : fields) {
      f.set(null, relay);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws IllegalAccessException {
    Class<?> type = context.getRequiredTestClass();
    TestRelay relay = context.getStore(NAMESPACE).remove(type, TestRelay.class);
    if (relay == null) {
      return;
    }
    try {
      relay.close();
    } finally {
      for (Field f : relayFields(type)) {
        f.set(null, null);
      }
    }
  }

  private static List<Field> relayFields(Class<?> type) {
    List<Field> fields = new ArrayList<>();
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (f.getType() == TestRelay.class && Modifier.isStatic(f.getModifiers()) && !Modifier.isFinal(f.getModifiers())) {
          f.setAccessible(true);
          fields.add(f);
        }
      }
    }
    return fields;
  }
}
