package chat.agentvault.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PassphrasesTest {
  @Test
  void encodesUtf8IncludingSurrogatePairs() {
    String s = "pässwörd 🔑 密码";
    assertThat(Passphrases.toUtf8(s.toCharArray())).isEqualTo(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void refusesEmptyAndUnpairedSurrogates() {
    assertThatThrownBy(() -> Passphrases.toUtf8(new char[0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Passphrases.toUtf8(new char[] {'a', '\ud83d'}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Passphrases.toUtf8(new char[] {'\udd11', 'a'}))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
