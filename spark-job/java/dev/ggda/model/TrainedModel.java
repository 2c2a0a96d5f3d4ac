package dev.ggda.model;

import dev.ggda.math.Architecture;
import dev.ggda.math.Network;
import java.util.List;

/**
 * What training hands to attribution: the architecture, the L2 strength it was trained with, and
 * for each ensemble member its checkpoints in training order (last = final model of that member).
 */
public record TrainedModel(Architecture architecture, double l2, List<List<Checkpoint>> members) {

  public TrainedModel {
    members = members.stream().map(List::copyOf).toList();
    if (members.isEmpty() || members.stream().anyMatch(List::isEmpty)) {
      throw new IllegalArgumentException(
          "a trained model needs at least one member with one checkpoint");
    }
  }

  public int memberCount() {
    return members.size();
  }

  public Checkpoint finalCheckpoint(int member) {
    List<Checkpoint> cps = members.get(member);
    return cps.get(cps.size() - 1);
  }

  /** Member 0's final parameters: "the model" for prediction and single-model methods. */
  public Network finalNetwork() {
    return Network.fromFloats(architecture, finalCheckpoint(0).params());
  }
}
