# bin/cds.sh: sourced by bin/kvd, bin/fleetd and bin/fctl (not a command of its own).
#
# Each launcher starts its JVM from an AppCDS archive of the classes such a process loaded, which
# saves their loading and verification at every later start. The archive is written by the first
# process after a build, at its exit (-XX:ArchiveClassesAtExit). The JVM ignores, quietly
# (-Xshare:auto), an archive that is half written (it writes the header last) or of another build
# (it records its jars' sizes and times); an archive older than a jar of the class path is written
# anew rather than used. A JVM with a JVMTI or Java agent (a profiler: -agentpath, -javaagent)
# refuses to start when asked to write one, so none is written then.

CDS_QUIET=(-Xlog:cds=off -Xlog:cds+dynamic=off)

# cds_state JSA JAR LIB_DIR: sets CDS_STATE to "use" (JSA is newer than JAR and every jar in
# LIB_DIR), "write" (this JVM may write it: its directory is writable and FLOTILLA_JAVA_OPTS and
# JAVA_TOOL_OPTIONS name no agent) or "none".
cds_state() {
  local opts=" ${FLOTILLA_JAVA_OPTS:-} ${JAVA_TOOL_OPTIONS:-} "
  if [[ -f "$1" && "$1" -nt "$2" && -z "$(find "$3" -name '*.jar' -newer "$1" -print -quit 2> /dev/null)" ]]; then
    CDS_STATE=use
  elif [[ -w "$(dirname "$1")" && "$opts" != *" -agent"* && "$opts" != *" -javaagent"* ]]; then
    CDS_STATE=write
  else
    CDS_STATE=none
  fi
}
