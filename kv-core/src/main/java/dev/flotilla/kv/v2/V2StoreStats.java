package dev.flotilla.kv.v2;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.proto.store.V2Method;
import dev.flotilla.proto.store.V2Write;
import java.util.concurrent.atomic.AtomicLong;

/**
 * etcd's v2 store statistics ({@code /v2/stats/store}): operations by kind and outcome, counted
 * where they happen — writes as each member applies them (so every member counts every write),
 * gets on the member that served them — plus expired nodes and the watchers waiting now.
 */
public final class V2StoreStats {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AtomicLong getsSuccess = new AtomicLong();
  private final AtomicLong getsFail = new AtomicLong();
  private final AtomicLong setsSuccess = new AtomicLong();
  private final AtomicLong setsFail = new AtomicLong();
  private final AtomicLong deleteSuccess = new AtomicLong();
  private final AtomicLong deleteFail = new AtomicLong();
  private final AtomicLong updateSuccess = new AtomicLong();
  private final AtomicLong updateFail = new AtomicLong();
  private final AtomicLong createSuccess = new AtomicLong();
  private final AtomicLong createFail = new AtomicLong();
  private final AtomicLong casSuccess = new AtomicLong();
  private final AtomicLong casFail = new AtomicLong();
  private final AtomicLong cadSuccess = new AtomicLong();
  private final AtomicLong cadFail = new AtomicLong();
  private final AtomicLong expireCount = new AtomicLong();

  public void get(boolean ok) {
    (ok ? getsSuccess : getsFail).incrementAndGet();
  }

  /** One applied v2 write, classified as etcd's store classifies it. */
  public void write(V2Write w, boolean ok) {
    boolean compare = w.getHasPrevValue() || !w.getPrevValue().isEmpty() || w.getPrevIndex() != 0;
    AtomicLong c;
    if (w.getMethod() == V2Method.V2_DELETE) {
      c = compare ? (ok ? cadSuccess : cadFail) : (ok ? deleteSuccess : deleteFail);
    } else if (w.getMethod() == V2Method.V2_POST || (w.getHasPrevExist() && !w.getPrevExist())) {
      c = ok ? createSuccess : createFail;
    } else if (compare) {
      c = ok ? casSuccess : casFail;
    } else if (w.getHasPrevExist() && w.getPrevExist()) {
      c = ok ? updateSuccess : updateFail;
    } else {
      c = ok ? setsSuccess : setsFail;
    }
    c.incrementAndGet();
  }

  public void expired(int nodes) {
    expireCount.addAndGet(nodes);
  }

  public String toJson(int watchers) {
    ObjectNode o = JSON.createObjectNode();
    o.put("getsSuccess", getsSuccess.get());
    o.put("getsFail", getsFail.get());
    o.put("setsSuccess", setsSuccess.get());
    o.put("setsFail", setsFail.get());
    o.put("deleteSuccess", deleteSuccess.get());
    o.put("deleteFail", deleteFail.get());
    o.put("updateSuccess", updateSuccess.get());
    o.put("updateFail", updateFail.get());
    o.put("createSuccess", createSuccess.get());
    o.put("createFail", createFail.get());
    o.put("compareAndSwapSuccess", casSuccess.get());
    o.put("compareAndSwapFail", casFail.get());
    o.put("compareAndDeleteSuccess", cadSuccess.get());
    o.put("compareAndDeleteFail", cadFail.get());
    o.put("expireCount", expireCount.get());
    o.put("watchers", watchers);
    return o.toString();
  }
}
