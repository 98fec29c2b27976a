package org.xfstage.strategies.inodes;

import java.util.ArrayList;
import java.util.List;

import org.xfstage.api.staging.XfArrayFactory;
import org.xfstage.api.staging.XfArrayInfo;

/** Makes {@link FakeXfArray}s and remembers them, so that a test can check the strategy closed what it made. */
final class FakeArrays implements XfArrayFactory {
    final List<FakeXfArray> made = new ArrayList<>();

    @Override
    public FakeXfArray create(String name, int recordSize) {
        if (recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) {
            throw new IllegalArgumentException("record size " + recordSize);
        }
        FakeXfArray a = new FakeXfArray(name, recordSize);
        made.add(a);
        return a;
    }

    @Override
    public List<XfArrayInfo> liveArrays() {
        return made.stream().filter(a -> !a.closed()).map(a -> new XfArrayInfo(a.name(), a.length(), a.recordSize(), 0)).toList();
    }
}
