package chat.agentvault.mls.codec;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Lets a long fuzz run override the bounded default of a property: {@code -Dmls.fuzz.tries=N} sets
 * the tries of every property this hook is added to (e.g. {@code 1000000} for an overnight run).
 * Without the property each {@code @Property(tries = ...)} keeps its own, CI-sized count.
 */
public final class FuzzTries implements AroundPropertyHook {
  public static final String PROPERTY = "mls.fuzz.tries";

  @Override
  public PropertyExecutionResult aroundProperty(
      PropertyLifecycleContext context, PropertyExecutor property) {
    String tries = System.getProperty(PROPERTY);
    if (tries != null && !tries.isBlank()) {
      context.attributes().setTries(Integer.parseInt(tries.trim()));
    }
    return property.execute();
  }

  @Override
  public PropagationMode propagateTo() {
    return PropagationMode.ALL_DESCENDANTS; // added to a class: every property in it
  }

  @Override
  public int aroundPropertyProximity() {
    return -100; // outermost: before jqwik reads the attributes
  }
}
