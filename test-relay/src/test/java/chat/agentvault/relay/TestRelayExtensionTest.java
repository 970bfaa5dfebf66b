package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** {@link TestRelayExtension}, run on test classes of its own through the JUnit Platform launcher. */
class TestRelayExtensionTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** What the inner classes saw (they run inside this test). */
  static final AtomicReference<TestRelay> SEEN = new AtomicReference<>();
  static final AtomicReference<TestRelay> SEEN_IN_BEFORE_ALL = new AtomicReference<>();
  static final AtomicReference<String> SEEN_URL = new AtomicReference<>();

  @ExtendWith(TestRelayExtension.class)
  static class WithARelay {
    static TestRelay relay;

    @BeforeAll
    static void before() {
      SEEN_IN_BEFORE_ALL.set(relay);
    }

    @Test
    void theRelayAnswers() throws Exception {
      assertThat(status(relay.baseUrl())).isEqualTo(200);
      SEEN.set(relay);
      SEEN_URL.set(relay.baseUrl());
    }
  }

  @ExtendWith(TestRelayExtension.class)
  static class WithoutAField {
    @Test
    void neverRuns() {}
  }

  private static int status(String baseUrl) throws Exception {
    HttpRequest get = HttpRequest.newBuilder(URI.create(baseUrl + "/health")).build();
    return HTTP.send(get, HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static TestExecutionSummary run(Class<?> type) {
    LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(type)).build();
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    LauncherFactory.create().execute(request, listener);
    return listener.getSummary();
  }

  @Test
  void aClassGetsARunningRelayBeforeItsBeforeAllAndItIsClosedAfterItsTests() throws Exception {
    TestExecutionSummary s = run(WithARelay.class);
    assertThat(s.getTestsSucceededCount()).as("%s", s.getFailures()).isEqualTo(1);
    TestRelay relay = SEEN.get();
    assertThat(relay).isNotNull().isSameAs(SEEN_IN_BEFORE_ALL.get());
    assertThat(WithARelay.relay).as("the field is cleared").isNull();
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> status(SEEN_URL.get())))
        .as("closed: nothing listens on its port").isInstanceOf(java.io.IOException.class);
  }

  @Test
  void aClassWithoutARelayFieldFailsWithAClearMessage() {
    TestExecutionSummary s = run(WithoutAField.class);
    assertThat(s.getTestsSucceededCount()).isZero();
    assertThat(s.getFailures()).singleElement().satisfies(f -> assertThat(f.getException())
        .isInstanceOf(org.junit.jupiter.api.extension.ExtensionConfigurationException.class)
        .hasMessageContaining("has no static field of type TestRelay"));
  }
}
