package org.xfstage.itests;

import static org.ops4j.pax.exam.CoreOptions.maven;
import static org.ops4j.pax.exam.CoreOptions.systemTimeout;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.File;

import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;

/** The Karaf every itest boots: plain Karaf 4.4.10 with the xfstage feature, resolved from the reactor. */
final class KarafOptions {
    private KarafOptions() {
    }

    static Option[] withXfstage() {
        String repo = new File(System.getProperty("itest.repo", "target/itest-repo")).getAbsoluteFile().toURI()
                + "@id=xfstage-reactor@snapshots";
        String mvnCfg = "etc/org.ops4j.pax.url.mvn.cfg";
        return new Option[] {
            karafDistributionConfiguration()
                    .frameworkUrl(maven("org.apache.karaf", "apache-karaf").versionAsInProject().type("tar.gz"))
                    .unpackDirectory(new File("target/exam"))
                    .useDeployFolder(false),
            configureConsole().ignoreLocalConsole(),
            logLevel(LogLevel.WARN),
            systemTimeout(120_000),
            editConfigurationFilePut(mvnCfg, "org.ops4j.pax.url.mvn.defaultRepositories",
                    "file:${karaf.home}/${karaf.default.repository}@id=system.repository@snapshots," + repo),
            editConfigurationFilePut(mvnCfg, "org.ops4j.pax.url.mvn.repositories",
                    "https://repo1.maven.org/maven2@id=central"),
            editConfigurationFilePut(mvnCfg, "org.ops4j.pax.url.mvn.localRepository",
                    System.getProperty("user.home") + "/.m2/repository"),
            features(maven("org.xfstage", "xfstage-features").classifier("features").type("xml").versionAsInProject(),
                    "xfstage"),
        };
    }
}
