package dev.flotilla.scheduler.registry.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.google.protobuf.ByteString;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.unit.Memo;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitHash;
import dev.flotilla.scheduler.unit.UnitName;
import java.io.IOException;
import java.util.Map;

/**
 * The registry's values in the store: JSON documents (a unit's file as its canonical text, so
 * its hash is that of the stored text), and a schedule entry's desired state as its plain word.
 */
final class RegistryCodec {
  private static final ObjectMapper JSON = new ObjectMapper();
  // One reader and writer per document, made when the class loads (a fleetd's start: its machine
  // record is the first document it writes): Jackson builds a record's (de)serializer, a few ms of
  // reflection each in a fresh JVM, when a reader or writer for the type is made, so the first
  // burst of unit files read or states written does not build them.
  private static final ObjectReader UNIT_READER = JSON.readerFor(UnitDoc.class);
  private static final ObjectWriter UNIT_WRITER = JSON.writerFor(UnitDoc.class);
  private static final ObjectReader MACHINE_READER = JSON.readerFor(MachineDoc.class);
  private static final ObjectWriter MACHINE_WRITER = JSON.writerFor(MachineDoc.class);
  private static final ObjectReader STATE_READER = JSON.readerFor(StateDoc.class);
  private static final ObjectWriter STATE_WRITER = JSON.writerFor(StateDoc.class);

  /**
   * Unit files decoded, by their text: the instances of a template share one file, so they share
   * one parsed {@link UnitFile} (parsed once, held once: 100,000 instances are not 100,000 copies of
   * its options). Bounded: a cluster has few distinct files; unique ones gain nothing from it.
   */
  private static final Memo<String, UnitFile> FILES = new Memo<>(1024, UnitFile::parse);

  private RegistryCodec() {}

  record UnitDoc(String name, String desiredState, String file) {}

  record MachineDoc(String id, String publicIp, Map<String, String> metadata, long cpuMillis, long memoryBytes,
      String version, String agentUrl) {}

  record StateDoc(String unit, String machineId, String hash, String loadState, String activeState,
      String subState) {}

  static ByteString unit(UnitRecord u) {
    return write(UNIT_WRITER, new UnitDoc(u.name().name(), u.desiredState().json(), u.file().serialize()));
  }

  static UnitRecord unit(ByteString value) {
    UnitDoc d = read(value, UNIT_READER);
    return new UnitRecord(UnitName.parse(d.name()), FILES.get(d.file()), DesiredState.fromJson(d.desiredState()));
  }

  static ByteString machine(MachineRecord m) {
    Resources c = m.capacity() == null ? Resources.NONE : m.capacity();
    return write(MACHINE_WRITER, new MachineDoc(m.id(), m.publicIp(), m.metadata(), c.cpuMillis(), c.memoryBytes(), m.version(),
        m.agentUrl()));
  }

  static MachineRecord machine(ByteString value) {
    MachineDoc d = read(value, MACHINE_READER);
    return new MachineRecord(d.id(), d.publicIp(), d.metadata() == null ? Map.of() : d.metadata(),
        new Resources(d.cpuMillis(), d.memoryBytes()), d.version(), d.agentUrl());
  }

  static ByteString state(UnitStateRecord s) {
    return write(STATE_WRITER, new StateDoc(s.unit(), s.machineId(), s.hash() == null ? null : s.hash().hex(), s.loadState(),
        s.activeState(), s.subState()));
  }

  static UnitStateRecord state(ByteString value) {
    StateDoc d = read(value, STATE_READER);
    return new UnitStateRecord(d.unit(), d.machineId(), d.hash() == null ? null : new UnitHash(d.hash()),
        d.loadState(), d.activeState(), d.subState());
  }

  static ByteString desired(DesiredState s) {
    return ByteString.copyFromUtf8(s.json());
  }

  static DesiredState desired(ByteString value) {
    return DesiredState.fromJson(value.toStringUtf8());
  }

  private static ByteString write(ObjectWriter writer, Object doc) {
    try {
      return ByteString.copyFrom(writer.writeValueAsBytes(doc));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + doc, e);
    }
  }

  private static <T> T read(ByteString value, ObjectReader reader) {
    try {
      return reader.readValue(value.toByteArray());
    } catch (IOException e) {
      throw new IllegalStateException("the registry holds a " + reader.getValueType().getRawClass().getSimpleName()
          + " it cannot read: "
          + value.toStringUtf8(), e);
    }
  }
}
