package io.rtbackup.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** {@link FleetStatus} as JSON for scripts ({@code rtb status --json}) and the status page ({@code /status.json}). */
public final class StatusJson {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private StatusJson() {}

    public static String write(FleetStatus status) {
        try {
            return MAPPER.writeValueAsString(status);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render the status as JSON", e);
        }
    }

    /** Parses what {@link #write} produced, generically (tests and scripts written in Java). */
    public static com.fasterxml.jackson.databind.JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not status JSON: " + e.getOriginalMessage(), e);
        }
    }
}
