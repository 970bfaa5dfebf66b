package chat.agentvault.mls.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A driver's handle on one interop peer (docs/interop.md): a spawned process (ts-mls, {@code
 * scripts/mls-peer}) or our {@link MlsPeer} in-process. Every reply is awaited with a timeout, so a
 * hung peer fails the test instead of hanging the build.
 */
abstract class Peer implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration REPLY_TIMEOUT = Duration.ofSeconds(60);

  final String name;
  private int nextId = 1;

  Peer(String name) {
    this.name = name;
  }

  /** Sends {@code cmd} with {@code fields} (name, value pairs) and returns the reply; ok is not checked. */
  JsonNode send(String cmd, Object... fields) {
    ObjectNode req = JSON.createObjectNode();
    int id = nextId++;
    req.put("id", id);
    req.put("cmd", cmd);
    for (int i = 0; i < fields.length; i += 2) {
      req.set((String) fields[i], JSON.valueToTree(fields[i + 1]));
    }
    String line = exchange(req.toString());
    JsonNode reply;
    try {
      reply = JSON.readTree(line);
    } catch (IOException e) {
      throw new AssertionError(name + ": reply to " + cmd + " is not JSON: " + line + diagnostics());
    }
    if (reply.path("id").asInt(-1) != id) {
      throw new AssertionError(name + ": reply id " + reply.path("id") + " for request " + id + ": " + line + diagnostics());
    }
    return reply;
  }

  /** Like {@link #send} but fails unless the reply is ok. */
  JsonNode call(String cmd, Object... fields) {
    JsonNode r = send(cmd, fields);
    if (!r.path("ok").asBoolean(false)) {
      throw new AssertionError(name + ": " + cmd + " failed: " + r.path("error").asText() + diagnostics());
    }
    return r;
  }

  abstract String exchange(String requestLine);

  String diagnostics() {
    return "";
  }

  /** Our engine, in-process, through the same protocol. */
  static final class InProcess extends Peer {
    private final MlsPeer peer = new MlsPeer();

    InProcess(String name) {
      super(name);
    }

    @Override
    String exchange(String requestLine) {
      return peer.handle(requestLine);
    }

    @Override
    public void close() {}
  }

  /** A peer process speaking the protocol on stdin/stdout; stderr is kept for failure messages. */
  static final class Spawned extends Peer {
    private final Process process;
    private final OutputStream stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stderr = new StringBuffer();

    Spawned(String name, Path dir, List<String> command) throws IOException {
      this(name, new ProcessBuilder(command).directory(dir.toFile()));
    }

    Spawned(String name, ProcessBuilder builder) throws IOException {
      super(name);
      process = builder.start();
      stdin = process.getOutputStream();
      Thread out = new Thread(() -> pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), true), name + "-stdout");
      Thread err = new Thread(() -> pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), false), name + "-stderr");
      out.setDaemon(true);
      err.setDaemon(true);
      out.start();
      err.start();
    }

    private void pump(BufferedReader r, boolean protocol) {
      try {
        String l;
        while ((l = r.readLine()) != null) {
          if (protocol) {
            lines.add(l);
          } else if (stderr.length() < 20_000) {
            stderr.append(l).append('\n');
          }
        }
      } catch (IOException e) {
        // process gone
      }
    }

    @Override
    String exchange(String requestLine) {
      try {
        stdin.write((requestLine + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
        String line = lines.poll(REPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (line == null) {
          throw new AssertionError(name + ": no reply within " + REPLY_TIMEOUT + " to " + abbreviate(requestLine)
              + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")") + diagnostics());
        }
        return line;
      } catch (IOException e) {
        throw new AssertionError(name + ": cannot write to the peer: " + e + diagnostics(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(name + ": interrupted", e);
      }
    }

    @Override
    String diagnostics() {
      return stderr.length() == 0 ? "" : "\n--- " + name + " stderr ---\n" + stderr;
    }

    /** Sends quit and waits for exit; returns the exit status (-1 if it had to be killed). */
    int quit() throws InterruptedException {
      send("quit");
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return -1;
      }
      return process.exitValue();
    }

    @Override
    public void close() {
      try {
        stdin.close();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (IOException | InterruptedException e) {
        process.destroyForcibly();
      }
    }
  }

  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
