package dev.flotilla.kv.client;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * A {@link StoreClient} that passes every request to a real one through {@code around}: for tests
 * that count a party's requests or hold some back. Closing it closes nothing (the wrapped client
 * is the caller's); Object's methods are not requests.
 */
public final class InterceptedStoreClient {
  private InterceptedStoreClient() {}

  /** What runs around each request; {@code proceed} makes it on the real client. */
  @FunctionalInterface
  public interface Around {
    Object request(Method method, Object[] args, Proceed proceed) throws Throwable;
  }

  @FunctionalInterface
  public interface Proceed {
    Object call() throws Throwable;
  }

  public static StoreClient of(StoreClient client, Around around) {
    return (StoreClient) Proxy.newProxyInstance(StoreClient.class.getClassLoader(), new Class<?>[] {StoreClient.class},
        (proxy, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return invoke(client, method, args);
          }
          if (method.getName().equals("close") && method.getParameterCount() == 0) {
            return null;
          }
          return around.request(method, args, () -> invoke(client, method, args));
        });
  }

  private static Object invoke(StoreClient client, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(client, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
