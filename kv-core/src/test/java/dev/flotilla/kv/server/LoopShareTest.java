package dev.flotilla.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** A member's event loops per group: its share of the host's cores, or the override. */
class LoopShareTest {
  private static final String THREE_LOCAL =
      "a=http://127.0.0.1:2380,b=http://127.0.0.1:2381,c=http://127.0.0.1:2382";

  @Test
  void aMemberAloneGetsALoopPerCore() {
    assertThat(LoopShare.choose(2, 1, null, "env").count()).isEqualTo(2);
    assertThat(LoopShare.choose(16, 1, null, "env").count()).isEqualTo(16);
    assertThat(LoopShare.choose(2, LoopShare.membersOnHost("", h -> true), null, "env").count()).isEqualTo(2);
  }

  @Test
  void membersSharingAHostSplitItsCoresAndKeepOneLoopEach() {
    assertThat(LoopShare.choose(2, 3, null, "env").count()).isEqualTo(1);
    assertThat(LoopShare.choose(8, 3, null, "env").count()).isEqualTo(2);
    assertThat(LoopShare.choose(1, 5, null, "env").count()).isEqualTo(1);
    assertThat(LoopShare.choose(2, 3, null, "env").why()).isEqualTo("2 cores, 3 members on this host");
  }

  @Test
  void countsTheMembersWithAPeerUrlOnThisHost() {
    assertThat(LoopShare.membersOnHost(THREE_LOCAL, h -> h.startsWith("127."))).isEqualTo(3);
    // three hosts: only this member is here
    assertThat(LoopShare.membersOnHost(
        "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380", "10.0.0.2"::equals)).isEqualTo(1);
    // a member with two peer URLs counts once
    assertThat(LoopShare.membersOnHost(
        "a=http://127.0.0.1:2380,a=http://127.0.0.1:2390,b=http://127.0.0.1:2381", h -> true)).isEqualTo(2);
    // nothing recognised as local still counts this member
    assertThat(LoopShare.membersOnHost(THREE_LOCAL, h -> false)).isEqualTo(1);
  }

  @Test
  void loopbackAndThisMachinesAddressesAreLocalOthersAreNot() throws Exception {
    Set<InetAddress> mine = new HashSet<>();
    for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      mine.addAll(Collections.list(n.getInetAddresses()));
    }
    String away = Stream.of("203.0.113.7", "198.51.100.7", "192.0.2.77")
        .filter(a -> mine.stream().noneMatch(m -> m.getHostAddress().equals(a))).findFirst().orElseThrow();
    assertThat(LoopShare.isLocal("127.0.0.1")).isTrue();
    assertThat(LoopShare.isLocal("localhost")).isTrue();
    assertThat(LoopShare.isLocal(away)).isFalse();
    assertThat(LoopShare.isLocal("no-such-host.invalid")).isFalse();
    for (InetAddress a : mine) {
      if (a instanceof Inet4Address) {
        assertThat(LoopShare.isLocal(a.getHostAddress())).as(a.getHostAddress()).isTrue();
      }
    }
    assertThat(LoopShare.membersOnHost(
        "a=http://127.0.0.1:2380,b=http://" + away + ":2380,c=http://" + away + ":2381", LoopShare::isLocal)).isEqualTo(1);
  }

  @Test
  void theOverrideWinsAndABadOneIsRefusedByName() {
    LoopShare set = LoopShare.choose(2, 3, "4", LoopShare.ENV);
    assertThat(set.count()).isEqualTo(4);
    assertThat(set.why()).isEqualTo("set by KVD_CLIENT_LOOPS");
    assertThat(LoopShare.choose(2, 3, " ", LoopShare.ENV).count()).isEqualTo(1);
    assertThatThrownBy(() -> LoopShare.choose(2, 1, "0", "-D" + LoopShare.PROPERTY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("-Dflotilla.client-loops=0: the number of event loops must be a positive integer");
    assertThatThrownBy(() -> LoopShare.choose(2, 1, "two", LoopShare.ENV))
        .hasMessageContaining("KVD_CLIENT_LOOPS=two");
  }
}
