# bench/attach.sh: sourced by the scripts that attach async-profiler to running JVMs.
# jcmd's JVMTI.agent_load splits the agent's options at '=': attach through the JDK's API instead.

attach_helper() { # DIR: compiles Attach into DIR; `java -cp DIR Attach LIBRARY OPTIONS PID...` loads the library into each JVM
  cat > "$1/Attach.java" << 'JAVA'
public class Attach { // LIBRARY OPTIONS PID...: loads the agent library into each JVM with these options
  public static void main(String[] a) throws Exception {
    for (int i = 2; i < a.length; i++) {
      var vm = com.sun.tools.attach.VirtualMachine.attach(a[i]);
      try { vm.loadAgentPath(a[0], a[1]); } finally { vm.detach(); }
    }
  }
}
JAVA
  javac -d "$1" "$1/Attach.java"
}
