package chat.agentvault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The public API of every exported package against a committed dump in {@code api/<package>.api}
 * (as OkHttp's {@code okhttp.api}), so every API change shows in review. Packages named {@code
 * internal} are not API and not listed. After an intended change: {@code mvn test -pl sdk-core
 * -Dtest=PublicApiTest -Dagentvault.api.write=true}, then review the diff of {@code api/}.
 */
class PublicApiTest {
  /** Exported packages of sdk-core, relative to {@code chat.agentvault} ("" is the root). */
  static final List<String> PACKAGES = List.of("", "channel", "crypto", "identity", "mls", "ratchet", "transport");

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.FieldSource("PACKAGES")
  void publicApiMatchesTheCommittedDump(String pkg) throws Exception {
    Path apiFile = Paths.get("api", (pkg.isEmpty() ? "agentvault" : pkg) + ".api");
    String actual = dump(pkg);
    if (Boolean.getBoolean("agentvault.api.write")) {
      Files.createDirectories(apiFile.getParent());
      Files.writeString(apiFile, actual, StandardCharsets.UTF_8);
    }
    assertThat(actual).isEqualTo(Files.readString(apiFile, StandardCharsets.UTF_8));
  }

  static String dump(String pkg) throws IOException, URISyntaxException, ClassNotFoundException {
    String packageName = "chat.agentvault" + (pkg.isEmpty() ? "" : "." + pkg);
    Path classes =
        Paths.get(VaultException.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .resolve(packageName.replace('.', '/'));
    List<Class<?>> types = new ArrayList<>();
    try (Stream<Path> s = Files.list(classes)) {
      for (Path p : s.sorted().collect(Collectors.toList())) {
        String file = p.getFileName().toString();
        if (file.endsWith(".class") && !file.equals("package-info.class")) {
          Class<?> c = Class.forName(packageName + "." + file.replace(".class", ""));
          if (isExported(c)) {
            types.add(c);
          }
        }
      }
    }
    StringBuilder out = new StringBuilder();
    for (Class<?> c : types) {
      out.append(Modifier.toString(c.getModifiers() & ~Modifier.STATIC))
          .append(c.isInterface() ? " " : c.isEnum() ? " enum " : c.isRecord() ? " record " : " class ")
          .append(c.getName())
          .append(c.getSuperclass() != null && c.getSuperclass() != Object.class
                  && !c.isEnum() && !c.isRecord()
              ? " extends " + c.getSuperclass().getName()
              : "")
          .append('\n');
      List<String> members = new ArrayList<>();
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isPublic(f.getModifiers()) && !f.isSynthetic()) {
          members.add(Modifier.toString(f.getModifiers()) + " " + f.getType().getName() + " " + f.getName());
        }
      }
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        if (Modifier.isPublic(k.getModifiers()) && !c.isEnum()) {
          members.add(Modifier.toString(k.getModifiers()) + " <init>" + params(k));
        }
      }
      for (Method m : c.getDeclaredMethods()) {
        if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
          members.add(
              Modifier.toString(m.getModifiers() & ~Modifier.ABSTRACT)
                  + " "
                  + m.getGenericReturnType().getTypeName()
                  + " "
                  + m.getName()
                  + params(m));
        }
      }
      members.stream().map(String::strip).sorted().forEach(m -> out.append("  ").append(m).append('\n'));
    }
    return out.toString();
  }

  private static boolean isExported(Class<?> c) {
    for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
      if (!Modifier.isPublic(k.getModifiers())) {
        return false;
      }
    }
    return true;
  }

  private static String params(Executable e) {
    return Arrays.stream(e.getGenericParameterTypes())
        .map(java.lang.reflect.Type::getTypeName)
        .collect(Collectors.joining(", ", "(", ")"));
  }
}
