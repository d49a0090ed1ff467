package dev.flotilla.raft.testkit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Captures the WARN lines one class's logger writes while this is open. */
public final class LogWarnings implements AutoCloseable {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  public LogWarnings(Class<?> owner) {
    logger = (Logger) LoggerFactory.getLogger(owner);
    appender.start();
    logger.addAppender(appender);
  }

  public List<String> lines() {
    return appender.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  public void clear() {
    appender.list.clear();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
  }
}
