package org.xfstage.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.xfstage.api.staging.XFileBacking;
import org.xfstage.api.staging.XFileInfo;
import org.xfstage.api.staging.XfArrayInfo;
import org.xfstage.shell.json.Json;

class JsonTest {
    @Test
    void escapesStringsAndKeepsOrder() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("a", "q\"\\\n\u0001");
        m.put("b", java.util.Arrays.asList(1, true, null));
        assertEquals("{\"a\":\"q\\\"\\\\\\n\\u0001\",\"b\":[1,true,null]}", Json.write(m));
    }

    @Test
    void stagingShapeIsStable() {
        var files = List.of(new XFileInfo("space map", 100, 4096, XFileBacking.MEMFD));
        var arrays = List.of(new XfArrayInfo("rmap", 6, 16, 4096));
        assertEquals("{\"xfiles\":[{\"name\":\"space map\",\"size\":100,\"bytesUsed\":4096,\"backing\":\"memfd\"}],"
                + "\"xfarrays\":[{\"name\":\"rmap\",\"records\":6,\"recordSize\":16,\"bytesStaged\":4096}],"
                + "\"totals\":{\"files\":1,\"size\":100,\"bytesUsed\":4096,\"limit\":8192}}",
                Json.write(StagingCommand.toJson(files, arrays, 100, 4096, 8192)));
    }
}
