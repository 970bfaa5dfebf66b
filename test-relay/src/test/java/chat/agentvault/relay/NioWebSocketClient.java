package chat.agentvault.relay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * A minimal RFC 6455 WebSocket client for the load generator: one TCP connection per member, the
 * opening handshake done blocking (with {@code Sec-WebSocket-Accept} checked), then every socket
 * read by one selector thread ({@code nio-ws-client}) that parses frames in place and hands each
 * complete text message to its {@link Handler} as bytes (no String, no JSON). Client frames are
 * masked (§5.3, a fresh 32-bit key per frame) and written by the calling thread. Pings are answered
 * with pongs; fragmented messages are reassembled. Cheaper per received frame than the JDK client
 * (no per-frame task hand-offs, no UTF-8 decoding), so the clients take less of the machine they
 * measure.
 */
final class NioWebSocketClient implements Runnable, AutoCloseable {
  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  /** Receives each complete text message: {@code buf[from, to)} is only valid during the call. */
  interface Handler {
    void onText(byte[] buf, int from, int to);
  }

  private final Selector selector;
  private final Thread thread;
  private final ConcurrentLinkedQueue<Conn> toRegister = new ConcurrentLinkedQueue<>();
  private final SecureRandom keys = new SecureRandom();
  private volatile boolean open = true;

  NioWebSocketClient() throws IOException {
    selector = Selector.open();
    thread = new Thread(this, "nio-ws-client");
    thread.setDaemon(true);
    thread.start();
  }

  Conn connect(URI uri, String bearer, Handler h) throws IOException {
    SocketChannel ch = SocketChannel.open(new InetSocketAddress(uri.getHost(), uri.getPort()));
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    byte[] nonce = new byte[16];
    keys.nextBytes(nonce);
    String key = Base64.getEncoder().encodeToString(nonce);
    String req = "GET " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
        + "\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer " + bearer + "\r\n\r\n";
    ByteBuffer out = ByteBuffer.wrap(req.getBytes(StandardCharsets.US_ASCII));
    while (out.hasRemaining()) {
      ch.write(out);
    }
    ByteBuffer in = ByteBuffer.allocate(1 << 16);
    int end;
    while ((end = headerEnd(in)) < 0) {
      if (ch.read(in) < 0) {
        throw new IOException("closed during the handshake");
      }
    }
    String head = new String(in.array(), 0, end, StandardCharsets.ISO_8859_1);
    if (!head.startsWith("HTTP/1.1 101")) {
      throw new IOException("handshake refused: " + head.lines().findFirst().orElse(""));
    }
    String expect;
    try {
      expect = Base64.getEncoder().encodeToString(
          MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    if (!head.toLowerCase(Locale.ROOT).contains("sec-websocket-accept: " + expect.toLowerCase(Locale.ROOT))) {
      throw new IOException("bad Sec-WebSocket-Accept in " + head);
    }
    // bytes after the header are the first frames: keep them, in read mode
    in.flip();
    in.position(end);
    in.compact();
    ch.configureBlocking(false);
    Conn c = new Conn(ch, in, h);
    toRegister.add(c);
    selector.wakeup();
    return c;
  }

  /** Index just past "\r\n\r\n" in the written part of {@code b}, or -1. */
  private static int headerEnd(ByteBuffer b) {
    byte[] a = b.array();
    for (int i = 3; i < b.position(); i++) {
      if (a[i] == '\n' && a[i - 1] == '\r' && a[i - 2] == '\n' && a[i - 3] == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  @Override
  public void run() {
    while (open) {
      try {
        selector.select();
        Conn c;
        while ((c = toRegister.poll()) != null) {
          c.ch.register(selector, SelectionKey.OP_READ, c);
          c.readable(); // frames that came with the handshake answer
        }
        for (SelectionKey k : selector.selectedKeys()) {
          if (k.isValid() && k.isReadable()) {
            ((Conn) k.attachment()).readable();
          }
        }
        selector.selectedKeys().clear();
      } catch (IOException | RuntimeException e) {
        if (open) {
          System.err.println("nio-ws-client: " + e);
        }
      }
    }
  }

  @Override
  public void close() throws IOException {
    open = false;
    selector.wakeup();
    selector.close();
  }

  /** One WebSocket connection. */
  static final class Conn {
    private final SocketChannel ch;
    private ByteBuffer in; // write mode between reads
    private final Handler handler;
    private final ByteArrayOutputStream fragments = new ByteArrayOutputStream();
    private boolean fragmented;
    private volatile boolean closed;

    Conn(SocketChannel ch, ByteBuffer in, Handler handler) {
      this.ch = ch;
      this.in = in;
      this.handler = handler;
    }

    /** On the selector thread: read what is there, handle every complete frame. */
    void readable() {
      try {
        int n = ch.read(in);
        in.flip();
        long need = parse();
        in.compact();
        if (need > in.capacity()) {
          ByteBuffer bigger = ByteBuffer.allocate((int) need);
          in.flip();
          bigger.put(in);
          in = bigger;
        }
        if (n < 0) {
          closeQuietly();
        }
      } catch (IOException e) {
        closeQuietly();
      }
    }

    /** Handles complete frames from {@code in} (read mode); returns the size the next frame needs. */
    private long parse() throws IOException {
      byte[] a = in.array();
      while (in.remaining() >= 2) {
        int p = in.position();
        int b0 = a[p] & 0xff;
        int b1 = a[p + 1] & 0xff;
        long len = b1 & 0x7f;
        int hdr = 2;
        if (len == 126) {
          if (in.remaining() < 4) {
            return 4;
          }
          len = ((a[p + 2] & 0xff) << 8) | (a[p + 3] & 0xff);
          hdr = 4;
        } else if (len == 127) {
          if (in.remaining() < 10) {
            return 10;
          }
          len = in.getLong(p + 2);
          hdr = 10;
        }
        if ((b1 & 0x80) != 0) {
          throw new IOException("masked frame from the server (RFC 6455 §5.1)");
        }
        if (in.remaining() < hdr + len) {
          return hdr + len;
        }
        int from = p + hdr;
        int to = (int) (from + len);
        frame(b0 & 0x80, b0 & 0x0f, a, from, to);
        in.position(to);
      }
      return 2;
    }

    private void frame(int fin, int op, byte[] a, int from, int to) throws IOException {
      switch (op) {
        case 0x1, 0x2, 0x0 -> {
          if (fin != 0 && !fragmented) {
            if (op == 0x1) {
              handler.onText(a, from, to);
            }
            return;
          }
          fragmented = fin == 0;
          fragments.write(a, from, to - from);
          if (fin != 0) {
            byte[] m = fragments.toByteArray();
            fragments.reset();
            handler.onText(m, 0, m.length);
          }
        }
        case 0x8 -> closeQuietly();
        case 0x9 -> send(0xA, java.util.Arrays.copyOfRange(a, from, to));
        default -> { } // pong: nothing
      }
    }

    void sendText(String s) throws IOException {
      send(0x1, s.getBytes(StandardCharsets.UTF_8));
    }

    /** One masked client frame (RFC 6455 §5.2, §5.3), written whole; callable from any thread. */
    synchronized void send(int opcode, byte[] payload) throws IOException {
      if (closed) {
        throw new IOException("closed");
      }
      int n = payload.length;
      int hdr = n < 126 ? 2 : n < 65536 ? 4 : 10;
      ByteBuffer b = ByteBuffer.allocate(hdr + 4 + n);
      b.put((byte) (0x80 | opcode));
      if (n < 126) {
        b.put((byte) (0x80 | n));
      } else if (n < 65536) {
        b.put((byte) (0x80 | 126)).putShort((short) n);
      } else {
        b.put((byte) (0x80 | 127)).putLong(n);
      }
      int key = ThreadLocalRandom.current().nextInt();
      b.putInt(key);
      byte[] mask = {(byte) (key >>> 24), (byte) (key >>> 16), (byte) (key >>> 8), (byte) key};
      for (int i = 0; i < n; i++) {
        b.put((byte) (payload[i] ^ mask[i & 3]));
      }
      b.flip();
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (b.hasRemaining()) {
        if (ch.write(b) == 0) {
          if (System.nanoTime() > deadline) {
            throw new IOException("write stalled for 5 s");
          }
          LockSupport.parkNanos(50_000);
        }
      }
    }

    void close() {
      try {
        send(0x8, new byte[] {0x03, (byte) 0xE8}); // 1000, normal closure
      } catch (IOException ignored) {
        // gone
      }
      closeQuietly();
    }

    private void closeQuietly() {
      closed = true;
      try {
        ch.close();
      } catch (IOException ignored) {
        // gone
      }
    }
  }
}
