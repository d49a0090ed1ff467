package dev.flotilla.bench.fleet;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What must hold once the engine is done, restated from the registry alone (not through the
 * scheduler's placement code): every unit scheduled, on a machine that is present, no conflicting
 * or replaced pair together, every MachineOf pair together, metadata matched, reservations within
 * capacity.
 */
final class ScaleInvariants {
    private ScaleInvariants() {}

    /** Every violation found (at most {@code limit}, then a count); empty when everything holds. */
    static List<String> violations(List<UnitRecord> units, List<MachineRecord> present, Map<String, String> schedule,
            int limit) {
        List<String> out = new ArrayList<>();
        Map<String, MachineRecord> machines = new HashMap<>();
        present.forEach(m -> machines.put(m.id(), m));
        Map<String, XFleetOptions> options = new HashMap<>();
        Map<String, List<XFleetOptions>> on = new HashMap<>();
        for (UnitRecord u : units) {
            XFleetOptions o = XFleetOptions.parse(u.name(), u.file());
            options.put(o.unit(), o);
            String host = schedule.get(o.unit());
            if (host == null) {
                out.add(o.unit() + " is not scheduled");
            } else if (!machines.containsKey(host)) {
                out.add(o.unit() + " is on " + host + ", which is gone");
            } else {
                on.computeIfAbsent(host, h -> new ArrayList<>()).add(o);
            }
        }
        for (String unit : schedule.keySet()) {
            if (!options.containsKey(unit)) {
                out.add("scheduled " + unit + " was never submitted");
            }
        }
        for (Map.Entry<String, List<XFleetOptions>> e : on.entrySet()) {
            MachineRecord m = machines.get(e.getKey());
            Resources used = Resources.NONE;
            for (XFleetOptions a : e.getValue()) {
                used = used.plus(a.reservation());
                if (!a.metadata().matches(m.metadata())) {
                    out.add(a.unit() + " needs " + a.metadata() + " but " + m.id() + " has " + m.metadata());
                }
                for (String target : a.machineOf()) {
                    if (!m.id().equals(schedule.get(target))) {
                        out.add(a.unit() + " follows " + target + " but is on " + m.id() + ", it on "
                                + schedule.get(target));
                    }
                }
                for (XFleetOptions b : e.getValue()) {
                    if (a != b && (a.conflictsWith(b.unit()) || a.replaces(b.unit()))) {
                        out.add(a.unit() + " and " + b.unit() + " are both on " + m.id());
                    }
                }
            }
            if (!m.capacity().covers(used)) {
                out.add(m.id() + " reserves " + used + " of " + m.capacity());
            }
        }
        if (out.size() > limit) {
            int more = out.size() - limit;
            List<String> cut = new ArrayList<>(out.subList(0, limit));
            cut.add("... and " + more + " more");
            return cut;
        }
        return out;
    }
}
