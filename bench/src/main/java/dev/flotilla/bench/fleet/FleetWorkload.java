package dev.flotilla.bench.fleet;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The scale benchmark's cluster: {@code machines} machines with metadata and capacity, and
 * {@code units} units that can all be placed, of every kind the engine treats differently —
 * PlacementScaleTest's mix, ten times over:
 *
 * <ul>
 *   <li>40%: instances of templates that conflict with their own kind ({@code Conflicts=app3@*}),
 *       {@code 0.8 × machines} instances per template, so each template spreads over 80% of
 *       the machines;</li>
 *   <li>20%: sidecars following every other of those instances ({@code MachineOf=app3@%i});</li>
 *   <li>15%: region-bound units, 10% bound to ssd backend machines (a ninth of them), 1% to the
 *       2% of machines with a gpu;</li>
 *   <li>1%: units that replace region-bound ones ({@code Replaces=}), the rest plain;</li>
 *   <li>most with CPU and memory reservations (machines offer 16 CPUs and 64 GiB).</li>
 * </ul>
 *
 * Units are instances of a few dozen templates, so there are few distinct unit files; each is
 * submitted as its own unit, with its own [X-Fleet] read by the engine. Shuffled by {@code seed}.
 */
final class FleetWorkload {
    private static final long GIB = 1L << 30;

    private FleetWorkload() {}

    static String machineId(int i) {
        return String.format("%032x", (long) (i + 1) * 0x9E3779B97F4A7C15L);
    }

    static List<MachineRecord> machines(int count) {
        String[] roles = {"frontend", "backend", "batch"};
        List<MachineRecord> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Map<String, String> md = new HashMap<>();
            md.put("region", "r" + (i % 4));
            md.put("disk", i % 3 == 0 ? "ssd" : "hdd");
            md.put("role", roles[(i / 3) % 3]);
            if (i % 50 == 0) {
                md.put("gpu", "yes");
            }
            out.add(new MachineRecord(machineId(i), "10." + (i / 65536 % 256) + "." + (i / 256 % 256) + "." + (i % 256),
                    md, new Resources(16_000, 64 * GIB), "bench"));
        }
        return out;
    }

    /** {@code count} units, started ({@code launched}), for a cluster of {@code machines} machines. */
    static List<UnitRecord> units(int count, int machines, long seed) {
        Random r = new Random(seed);
        List<UnitRecord> out = new ArrayList<>(count);
        int perTemplate = Math.max(1, machines * 8 / 10);
        int apps = count * 40 / 100;
        int templates = (apps + perTemplate - 1) / perTemplate;
        Map<String, UnitFile> files = new HashMap<>();
        int made = 0;
        for (int k = 0; k < templates && made < apps; k++) {
            for (int i = 0; i < perTemplate && made < apps; i++, made++) {
                add(out, files, "app" + k + "@" + i + ".service", "app" + k,
                        "Conflicts=app" + k + "@*.service\nCPUReservation=0." + (1 + r.nextInt(2))
                                + "\nMemoryReservation=" + (128 << r.nextInt(2)) + "M\n");
                if (i % 2 == 0) {
                    add(out, files, "log" + k + "@" + i + ".service", "log" + k,
                            "MachineOf=app" + k + "@%i.service\nCPUReservation=0.05\nMemoryReservation=32M\n");
                }
            }
        }
        int sidecars = out.size() - apps;
        int regional = count * 15 / 100;
        for (int i = 0; i < regional; i++) {
            int region = r.nextInt(4);
            add(out, files, "regional" + region + "@" + i + ".service", "regional" + region,
                    "MachineMetadata=region=r" + region + "\nCPUReservation=0.2\nMemoryReservation=256M\n");
        }
        for (int i = 0; i < count * 10 / 100; i++) {
            add(out, files, "db@" + i + ".service", "db",
                    "MachineMetadata=disk=ssd\nMachineMetadata=role=backend\nCPUReservation=0.1\nMemoryReservation=128M\n");
        }
        for (int i = 0; i < count / 100; i++) {
            add(out, files, "gpu@" + i + ".service", "gpu", "MachineMetadata=gpu=yes\n");
        }
        // a replacing unit for each of the first region-bound units, whatever their region
        int replacing = Math.min(count / 100, regional);
        for (int i = 0; i < replacing; i++) {
            String replaced = out.get(apps + sidecars + i).name().name();
            String region = replaced.substring("regional".length(), replaced.indexOf('@'));
            add(out, files, "v2r" + region + "@" + i + ".service", "v2r" + region,
                    "Replaces=regional" + region + "@%i.service\n");
        }
        for (int i = 0; out.size() < count; i++) {
            add(out, files, "plain@" + i + ".service", "plain", "");
        }
        Collections.shuffle(out, r);
        return out;
    }

    private static void add(List<UnitRecord> out, Map<String, UnitFile> files, String name, String template,
            String xfleet) {
        UnitFile file = files.computeIfAbsent(template, t -> UnitFile.parse(
                "[Unit]\nDescription=" + t + " %i\n\n[Service]\nExecStart=/bin/sleep infinity\n"
                        + (xfleet.isEmpty() ? "" : "\n[X-Fleet]\n" + xfleet)));
        out.add(new UnitRecord(UnitName.parse(name), file, DesiredState.LAUNCHED));
    }
}
