package org.sparsetransfer.jobs.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sparsetransfer.core.transfer.Regime;

class TransferShardsTest {
    @Test
    void linearSeedsOfACheckpointAndTaskShareATaskAndFullRunsGetOneEach() {
        List<TransferStage.Run> runs = new ArrayList<>();
        for (String checkpoint : List.of("dense", "gmp-0.9")) {
            TransferStage.Source source = new TransferStage.Source(checkpoint, checkpoint, 0.9, 0.9, null);
            for (String task : List.of("mnist", "digits8x8")) {
                for (Regime regime : List.of(Regime.LINEAR, Regime.FULL)) {
                    for (long seed : List.of(0L, 1L, 2L)) {
                        runs.add(new TransferStage.Run(runs.size(), source, task, List.of(), regime, seed, null, false, null, null));
                    }
                }
            }
        }
        List<TransferStage.Shard> shards = TransferStage.shards(runs);
        // 2 checkpoints x 2 tasks: one linear shard of 3 seeds each, and 12 single full runs.
        assertEquals(4 + 12, shards.size());
        for (TransferStage.Shard shard : shards) {
            TransferStage.Run first = shard.runs().get(0);
            if (first.regime() == Regime.LINEAR) {
                assertEquals(List.of(0L, 1L, 2L), shard.runs().stream().map(TransferStage.Run::seed).toList());
                shard.runs().forEach(r -> assertEquals(List.of(first.source().id(), first.task(), Regime.LINEAR),
                        List.of(r.source().id(), r.task(), r.regime())));
            } else {
                assertEquals(1, shard.runs().size());
            }
        }
        assertEquals(runs, shards.stream().flatMap(s -> s.runs().stream()).sorted((a, b) -> a.index() - b.index()).toList(),
                "every run in exactly one shard");
    }
}
