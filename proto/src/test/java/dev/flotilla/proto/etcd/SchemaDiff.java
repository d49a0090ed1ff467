package dev.flotilla.proto.etcd;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares two copies of a protobuf schema on what reaches the wire, or what a peer's generated
 * code relies on: proto package and full names of messages, enums and services; fields by number
 * with name, type, label, message/enum type, oneof, proto3 {@code optional} and an explicit
 * {@code packed}; enum values by name with their numbers; RPCs with input and output types and
 * streaming flags. File names, imports, options (java_package, gogoproto, google.api.http) and
 * comments are ignored. Works on {@link FileDescriptorProto}s so that a schema whose imports we do
 * not have (etcd's gogoproto) can be compared too.
 *
 * <p>Each difference is one line with a stable wording, so that a test can allow a known one by
 * its exact text.
 */
final class SchemaDiff {
  private SchemaDiff() {}

  /** The flattened schema of some packages: every message, enum and service by full name. */
  record Schema(Map<String, DescriptorProto> messages, Map<String, EnumDescriptorProto> enums,
      Map<String, ServiceDescriptorProto> services, Map<String, String> syntaxByPackage) {

    static Schema of(Collection<FileDescriptorProto> files, Set<String> packages) {
      var schema = new Schema(new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
      for (FileDescriptorProto file : files) {
        if (!packages.contains(file.getPackage())) {
          continue;
        }
        String syntax = file.getSyntax().isEmpty() ? "proto2" : file.getSyntax();
        String previous = schema.syntaxByPackage.put(file.getPackage(), syntax);
        if (previous != null && !previous.equals(syntax)) {
          schema.syntaxByPackage.put(file.getPackage(), previous + "+" + syntax);
        }
        for (DescriptorProto m : file.getMessageTypeList()) {
          schema.addMessage(file.getPackage(), m);
        }
        for (EnumDescriptorProto e : file.getEnumTypeList()) {
          schema.enums.put(file.getPackage() + "." + e.getName(), e);
        }
        for (ServiceDescriptorProto s : file.getServiceList()) {
          schema.services.put(file.getPackage() + "." + s.getName(), s);
        }
      }
      return schema;
    }

    /** {@code root} and every file it imports, transitively, as descriptor protos. */
    static List<FileDescriptorProto> withDependencies(FileDescriptor... roots) {
      Set<FileDescriptor> seen = new LinkedHashSet<>();
      for (FileDescriptor root : roots) {
        collect(root, seen);
      }
      return seen.stream().map(FileDescriptor::toProto).toList();
    }

    private static void collect(FileDescriptor file, Set<FileDescriptor> seen) {
      if (seen.add(file)) {
        file.getDependencies().forEach(d -> collect(d, seen));
      }
    }

    private void addMessage(String scope, DescriptorProto m) {
      String name = scope + "." + m.getName();
      messages.put(name, m);
      for (DescriptorProto nested : m.getNestedTypeList()) {
        addMessage(name, nested);
      }
      for (EnumDescriptorProto e : m.getEnumTypeList()) {
        enums.put(name + "." + e.getName(), e);
      }
    }
  }

  /** Every difference between {@code ours} and {@code theirs}, one line each, sorted. */
  static List<String> diff(Schema ours, Schema theirs) {
    var out = new TreeSet<String>();
    both(ours.syntaxByPackage, theirs.syntaxByPackage, "package ", out, (pkg, a, b) -> {
      if (!a.equals(b)) {
        out.add("package " + pkg + ": syntax ours " + a + " vs theirs " + b);
      }
    });
    both(ours.messages, theirs.messages, "message ", out, (name, a, b) -> diffFields(name, a, b, out));
    both(ours.enums, theirs.enums, "enum ", out, (name, a, b) -> diffEnumValues(name, a, b, out));
    both(ours.services, theirs.services, "service ", out, (name, a, b) -> diffMethods(name, a, b, out));
    return new ArrayList<>(out);
  }

  private static void diffFields(String message, DescriptorProto ours, DescriptorProto theirs, Set<String> out) {
    Map<Integer, String> a = new TreeMap<>();
    ours.getFieldList().forEach(f -> a.put(f.getNumber(), signature(ours, f)));
    Map<Integer, String> b = new TreeMap<>();
    theirs.getFieldList().forEach(f -> b.put(f.getNumber(), signature(theirs, f)));
    for (var e : a.entrySet()) {
      String other = b.get(e.getKey());
      if (other == null) {
        out.add("field " + message + " #" + e.getKey() + ": only in ours (" + e.getValue() + ")");
      } else if (!other.equals(e.getValue())) {
        out.add("field " + message + " #" + e.getKey() + ": ours (" + e.getValue() + ") vs theirs (" + other + ")");
      }
    }
    for (var e : b.entrySet()) {
      if (!a.containsKey(e.getKey())) {
        out.add("field " + message + " #" + e.getKey() + ": only in theirs (" + e.getValue() + ")");
      }
    }
  }

  /** What a field means on the wire and to generated code, in one comparable string. */
  private static String signature(DescriptorProto owner, FieldDescriptorProto f) {
    var s = new StringBuilder();
    s.append(f.getName()).append(' ')
        .append(f.getLabel().name().substring("LABEL_".length()).toLowerCase()).append(' ')
        .append(f.getType().name().substring("TYPE_".length()).toLowerCase());
    if (f.hasTypeName()) {
      s.append(' ').append(strip(f.getTypeName()));
    }
    if (f.hasOneofIndex() && !f.getProto3Optional()) {
      s.append(" oneof=").append(owner.getOneofDecl(f.getOneofIndex()).getName());
    }
    if (f.getProto3Optional()) {
      s.append(" proto3_optional");
    }
    if (f.hasOptions() && f.getOptions().hasPacked()) {
      s.append(" packed=").append(f.getOptions().getPacked());
    }
    return s.toString();
  }

  private static void diffEnumValues(String e, EnumDescriptorProto ours, EnumDescriptorProto theirs, Set<String> out) {
    Map<String, Integer> a = new TreeMap<>();
    ours.getValueList().forEach(v -> a.put(v.getName(), v.getNumber()));
    Map<String, Integer> b = new TreeMap<>();
    theirs.getValueList().forEach(v -> b.put(v.getName(), v.getNumber()));
    for (var v : a.entrySet()) {
      Integer other = b.get(v.getKey());
      if (other == null) {
        out.add("enum value " + e + "." + v.getKey() + " = " + v.getValue() + ": only in ours");
      } else if (!other.equals(v.getValue())) {
        out.add("enum value " + e + "." + v.getKey() + ": ours " + v.getValue() + " vs theirs " + other);
      }
    }
    for (EnumValueDescriptorProto v : theirs.getValueList()) {
      if (!a.containsKey(v.getName())) {
        out.add("enum value " + e + "." + v.getName() + " = " + v.getNumber() + ": only in theirs");
      }
    }
  }

  private static void diffMethods(String service, ServiceDescriptorProto ours, ServiceDescriptorProto theirs,
      Set<String> out) {
    Map<String, String> a = new TreeMap<>();
    ours.getMethodList().forEach(m -> a.put(m.getName(), signature(m)));
    Map<String, String> b = new TreeMap<>();
    theirs.getMethodList().forEach(m -> b.put(m.getName(), signature(m)));
    both(a, b, "rpc " + service + "/", out, (name, x, y) -> {
      if (!x.equals(y)) {
        out.add("rpc " + service + "/" + name + ": ours " + x + " vs theirs " + y);
      }
    });
  }

  private static String signature(MethodDescriptorProto m) {
    return "(" + (m.getClientStreaming() ? "stream " : "") + strip(m.getInputType()) + ") returns ("
        + (m.getServerStreaming() ? "stream " : "") + strip(m.getOutputType()) + ")";
  }

  private static String strip(String typeName) {
    return typeName.startsWith(".") ? typeName.substring(1) : typeName;
  }

  /** Reports names only one side has; hands each name both sides have to {@code compare}. */
  private static <T> void both(Map<String, T> ours, Map<String, T> theirs, String prefix, Set<String> out,
      PairComparison<T> compare) {
    for (var e : ours.entrySet()) {
      T other = theirs.get(e.getKey());
      if (other == null) {
        out.add(prefix + e.getKey() + ": only in ours");
      } else {
        compare.compare(e.getKey(), e.getValue(), other);
      }
    }
    for (String name : theirs.keySet()) {
      if (!ours.containsKey(name)) {
        out.add(prefix + name + ": only in theirs");
      }
    }
  }

  @FunctionalInterface
  private interface PairComparison<T> {
    void compare(String name, T ours, T theirs);
  }
}
