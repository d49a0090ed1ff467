package dev.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CpuUsageTest {
    @Test
    void splitsMachineTimeIntoGeneratorServerAndOther() {
        var a = new CpuUsage.Sample(0, 0, 100, 1_000);
        var b = new CpuUsage.Sample(1_000_000_000L, 500_000_000L, 200, 1_200); // ticks are 1/100 s

        assertThat(CpuUsage.between(a, b)).isEqualTo(new CpuUsage(0.5, 1.0, 0.5));
    }

    @Test
    void unknownServerLeavesItOutOfOther() {
        var a = new CpuUsage.Sample(0, 0, -1, 1_000);
        var b = new CpuUsage.Sample(2_000_000_000L, 1_000_000_000L, -1, 1_100);

        assertThat(CpuUsage.between(a, b)).isEqualTo(new CpuUsage(0.5, -1, 0.0));
    }

    @Test
    void readsThisProcessAndTheMachineFromProc() {
        assumeTrue(Files.isReadable(Path.of("/proc/stat")), "needs Linux /proc");

        assertThat(CpuUsage.readProcessTicks(ProcessHandle.current().pid())).isPositive();
        assertThat(CpuUsage.readMachineBusyTicks()).isPositive();
        assertThat(CpuUsage.readProcessTicks(Long.MAX_VALUE)).isEqualTo(-1);
    }
}
