package org.sparsetransfer.jobs.deploy;

import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.sparsetransfer.jobs.storage.Storage;
import org.sparsetransfer.jobs.tables.Warehouse;
import org.sparsetransfer.jobs.tables.WarehouseLock;

/** A process that holds one scope of a warehouse until it is killed: {@code HeldLock WAREHOUSE SCOPE}. */
public final class HeldLock {
    private HeldLock() {}

    public static void main(String[] args) throws InterruptedException {
        WarehouseLock.acquire(new Storage(new Configuration()), Warehouse.parse(args[0]), "held-lock", List.of(args[1]));
        System.out.println("held");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
