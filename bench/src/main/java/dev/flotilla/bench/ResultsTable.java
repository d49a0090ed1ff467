package dev.flotilla.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Renders the JSON lines of {@link V2Load} runs as one markdown table, rows in run order. Lines
 * that are not JSON objects are skipped, so whole V2Load outputs can be fed in. A line with a
 * {@code failed} field (written by run-v2.sh when V2Load could not run) becomes a row saying so.
 */
@Command(name = "results-table", mixinStandardHelpOptions = true,
        description = "Markdown table of v2load JSON result lines (files, or stdin when none).")
public final class ResultsTable implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "FILE")
    private List<Path> files = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new ResultsTable()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        if (files.isEmpty()) {
            read(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), rows);
        }
        for (Path f : files) {
            try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                read(r, rows);
            }
        }
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        render(rows).forEach(out::println);
        return 0;
    }

    static List<String> render(List<JsonNode> rows) {
        List<String> lines = new ArrayList<>();
        lines.add("| system | workload | req/s | p50 ms | p99 ms | errors | cpu server/gen/other |");
        lines.add("|---|---|---:|---:|---:|---|---|");
        for (JsonNode r : rows) {
            if (r.has("failed")) {
                lines.add(String.format(Locale.ROOT, "| %s | %s | - | - | - | could not run: %s | - |",
                        r.path("system").asText(), r.path("workload").asText(), r.path("failed").asText()));
                continue;
            }
            JsonNode lat = r.path("latencyMs");
            lines.add(String.format(Locale.ROOT, "| %s | %s | %.0f | %.2f | %.2f | %s | %s |",
                    r.path("system").asText(), r.path("workload").asText(), r.path("rps").asDouble(),
                    lat.path("p50").asDouble(), lat.path("p99").asDouble(), errors(r), cpu(r.path("cpuCores"))));
        }
        return lines;
    }

    /** Other load above this many cores took a visible share of a 2-core machine from the run. */
    static final double NOISY_OTHER_CORES = 0.2;

    /** "1.41/0.45/0.02", "?" for an unknown share, and a warning when other load was high. */
    static String cpu(JsonNode c) {
        if (c.isMissingNode()) {
            return "?";
        }
        String text = share(c.path("server")) + "/" + share(c.path("generator")) + "/" + share(c.path("other"));
        return c.path("other").asDouble(-1) > NOISY_OTHER_CORES ? text + " NOISY" : text;
    }

    private static String share(JsonNode n) {
        double v = n.asDouble(-1);
        return v < 0 ? "?" : String.format(Locale.ROOT, "%.2f", v);
    }

    /** "0", or what went wrong: error kinds and non-2xx statuses with their counts. */
    static String errors(JsonNode r) {
        List<String> parts = new ArrayList<>();
        JsonNode e = r.path("errors");
        for (String kind : List.of("connect", "io", "timeout")) {
            long n = e.path(kind).asLong();
            if (n > 0) {
                parts.add(kind + " " + n);
            }
        }
        if (r.path("non2xx").asLong() > 0) {
            List<String> statuses = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = r.path("statuses").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> s = it.next();
                if (!s.getKey().startsWith("2")) {
                    statuses.add(s.getKey() + "×" + s.getValue().asLong());
                }
            }
            parts.add("non-2xx " + r.path("non2xx").asLong() + " (" + String.join(", ", statuses) + ")");
        }
        if (r.path("requests").asLong() == 0) {
            parts.add("no responses");
        }
        return parts.isEmpty() ? "0" : String.join("; ", parts);
    }

    private static void read(BufferedReader reader, List<JsonNode> rows) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.startsWith("{")) {
                rows.add(mapper.readTree(line));
            }
        }
    }
}
