package dev.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResultsTableTest {
    private final ObjectMapper mapper = new ObjectMapper();

    @Test
    void rendersOneRowPerRunWithErrorsSpelledOut() throws Exception {
        var clean = mapper.readTree("""
                {"system":"etcd","workload":"get","rps":31680.4,"requests":316804,
                 "latencyMs":{"p50":1.489,"p99":9.775},"non2xx":0,"statuses":{"200":316804},
                 "errors":{"total":0,"connect":0,"io":0,"timeout":0},
                 "cpuCores":{"generator":0.45,"server":1.41,"other":0.02}}""");
        var dirty = mapper.readTree("""
                {"system":"kvd","workload":"put","rps":100.0,"requests":1000,
                 "latencyMs":{"p50":2.0,"p99":30.0},"non2xx":7,"statuses":{"201":993,"500":7},
                 "errors":{"total":3,"connect":0,"io":2,"timeout":1},
                 "cpuCores":{"generator":0.2,"server":-1,"other":0.9}}""");

        var failed = mapper.readTree("""
                {"system":"kvd","workload":"get","failed":"exit 1: v2load: cannot connect"}""");

        List<String> lines = ResultsTable.render(List.of(clean, dirty, failed));

        assertThat(lines).containsExactly(
                "| system | workload | req/s | p50 ms | p99 ms | errors | cpu server/gen/other |",
                "|---|---|---:|---:|---:|---|---|",
                "| etcd | get | 31680 | 1.49 | 9.78 | 0 | 1.41/0.45/0.02 |",
                "| kvd | put | 100 | 2.00 | 30.00 | io 2; timeout 1; non-2xx 7 (500×7) | ?/0.20/0.90 NOISY |",
                "| kvd | get | - | - | - | could not run: exit 1: v2load: cannot connect | - |");
    }
}
