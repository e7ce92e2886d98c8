package io.ferrite.server.zookeeper;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * ZooKeeper's four-letter commands on the client port ({@code srvr}, {@code mntr}, ...): the
 * word is sent, the server answers in plain text and closes the connection.
 */
final class FourLetterWords {
    /** What {@code srvr} answers while the server does not serve clients (no quorum yet). */
    static final String NOT_SERVING = "not currently serving requests";
    private static final String MODE = "Mode: ";

    private FourLetterWords() {
    }

    /**
     * Sends a four-letter word and reads the whole answer.
     *
     * @throws IOException if the server cannot be reached or does not answer within {@code timeoutMs}
     */
    static String ask(String host, int port, String word, int timeoutMs) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            socket.getOutputStream().write(word.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The server's mode from its {@code srvr} answer: {@code leader}, {@code follower},
     * {@code observer} or {@code standalone}; empty while it does not serve clients.
     */
    static Optional<String> mode(String srvrAnswer) {
        for (String line : srvrAnswer.split("\n")) {
            if (line.startsWith(MODE)) {
                return Optional.of(line.substring(MODE.length()).trim());
            }
        }
        return Optional.empty();
    }
}
