package dev.flotilla.scheduler.api;

/** What the API answers: a status, and a JSON body (empty for 201 and 204, as fleet). */
public record ApiResponse(int status, byte[] body) {
  public static ApiResponse empty(int status) {
    return new ApiResponse(status, new byte[0]);
  }
}
