package io.rtbackup.agent;

import io.rtbackup.agent.capture.CaptureSelection;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.config.ConfigException;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.reconcile.ReconcileConfig;
import io.rtbackup.schema.signing.SigningSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The agent's whole configuration: one properties file whose sections belong to capture ({@code host.id},
 * {@code root.*}, {@code capture.*}, {@code publish.*}, {@code kafka.*}), the executor ({@code destination.*},
 * {@code rsync.*}, {@code exec.*}), periodic reconciliation ({@code reconcile.*}, {@link ReconcileConfig}) and the
 * process ({@code metrics.port}, {@code metrics.token-file}: read by the command that serves the endpoint;
 * {@code state.dir}: where the agent keeps its incarnation, default {@value #DEFAULT_STATE_DIR}) and record signing
 * ({@code signing.key}: this host's key, which signs its events and results; {@code signing.keyring}: the workers'
 * public keys, whose commands and switches alone it accepts; {@link SigningSettings}). A key in no
 * section is a typo and
 * fails the start, naming the key. An explicitly chosen capture source that this host rules out (fanotify
 * without CAP_SYS_ADMIN) fails here too, naming {@code capture.source}.
 */
public record AgentConfig(CaptureConfig capture, ExecConfig exec, ReconcileConfig reconcile, int metricsPort,
        Path stateDir, SigningSettings signing) {
    public static final String METRICS_PORT = "metrics.port";
    public static final String METRICS_TOKEN_FILE = "metrics.token-file";
    public static final String STATE_DIR = "state.dir";
    public static final String DEFAULT_STATE_DIR = "/var/lib/rtbackup-agent";
    static final List<String> PREFIXES = List.of("root.", "capture.", "publish.", "kafka.", "destination.", "rsync.",
        "exec.", ReconcileConfig.PREFIX, "signing.");
    static final List<String> KEYS = List.of(CaptureConfig.HOST_ID, METRICS_PORT, METRICS_TOKEN_FILE, STATE_DIR);

    /** Parses and validates everything, including the checks against this host (roots, capture source). */
    public static AgentConfig from(Properties props, Map<String, String> env) {
        for (String key : props.stringPropertyNames()) {
            if (KEYS.contains(key) || PREFIXES.stream().anyMatch(key::startsWith)) continue;
            throw new ConfigException(key, "unknown setting; agent settings are " + KEYS + " and keys starting with "
                + PREFIXES);
        }
        int metricsPort = 0;
        String mp = props.getProperty(METRICS_PORT);
        if (mp != null && !mp.isBlank()) {
            try {
                metricsPort = Integer.parseInt(mp.trim());
                if (metricsPort < 0 || metricsPort > 65535) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new ConfigException(METRICS_PORT, "must be a port number 1-65535 (0 or unset: no endpoint), got '"
                    + mp + "'");
            }
        }
        CaptureConfig capture = CaptureConfig.fromProperties(props);
        CaptureSelection.unusable(capture.source()).ifPresent(problem -> {
            throw new ConfigException(CaptureConfig.CAPTURE_SOURCE, problem);
        });
        String sd = props.getProperty(STATE_DIR, DEFAULT_STATE_DIR).trim();
        if (sd.isEmpty() || !Path.of(sd).isAbsolute()) {
            throw new ConfigException(STATE_DIR, "must be an absolute directory (the agent keeps its incarnation there), got '"
                + sd + "'");
        }
        SigningSettings signing;
        try {
            signing = SigningSettings.from(props);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(SigningSettings.REQUIRED, e.getMessage());
        }
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith("signing.") && !List.of(SigningSettings.KEY, SigningSettings.KEYRING,
                    SigningSettings.REQUIRED).contains(key)) {
                throw new ConfigException(key, "unknown setting; signing settings are " + SigningSettings.KEY + ", "
                    + SigningSettings.KEYRING + " and " + SigningSettings.REQUIRED);
            }
        }
        return new AgentConfig(capture, ExecConfig.from(props, env), ReconcileConfig.from(props), metricsPort,
            Path.of(sd), signing);
    }

    /** Reads {@code file} (UTF-8 properties); a missing or unreadable file is named in the error. */
    public static Properties read(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(r);
            return p;
        } catch (IOException e) {
            throw new ConfigException("--config", "cannot read " + file + ": " + e.getMessage());
        }
    }
}
