package dev.ggda.cli;

/** Entry point placeholder; the picocli command tree replaces it. */
public final class Main {
  public static void main(String[] args) {
    System.out.println("ggda");
  }
}
