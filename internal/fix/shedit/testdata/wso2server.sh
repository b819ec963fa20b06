#!/bin/sh
# Start script (test data): the shape of the WSO2 kernel's
# bin/wso2server.sh, with the shipped, unhardened flags.
CARBON_HOME=`cd "$(dirname "$0")/.."; pwd`
JAVACMD="$JAVA_HOME/bin/java"

for c in "$@"
do
    if [ "$c" = "--debug" ] || [ "$c" = "-debug" ]; then
          CMD="--debug"
          continue
    fi
done

if [ "$CMD" = "--debug" ]; then
  JAVA_OPTS="-Xdebug -Xnoagent -Djava.compiler=NONE -Xrunjdwp:transport=dt_socket,server=y,suspend=y,address=$PORT"
  echo "Please start the remote debugging client to continue..."
fi

if [ -z "$JVM_MEM_OPTS" ]; then
   java_version=$("$JAVACMD" -version 2>&1 | awk -F '"' '/version/ {print $2}')
   JVM_MEM_OPTS="-Xms512m -Xmx2048m"
   if [ "$java_version" \< "1.8" ]; then
      JVM_MEM_OPTS="$JVM_MEM_OPTS -XX:MaxPermSize=256m"
   fi
fi

START_EXIT_STATUS=121
status=$START_EXIT_STATUS
while [ "$status" = "$START_EXIT_STATUS" ]
do
    $JAVACMD \
    -Xbootclasspath/a:"$CARBON_XBOOTCLASSPATH" \
    $JVM_MEM_OPTS \
    -XX:+HeapDumpOnOutOfMemoryError \
    -XX:HeapDumpPath="$CARBON_HOME/repository/logs/heap-dump.hprof" \
    $JAVA_OPTS \
    -classpath "$CARBON_CLASSPATH" \
    -Djava.io.tmpdir="$CARBON_HOME/tmp" \
    -Dcarbon.home="$CARBON_HOME" \
    -Djdk.tls.ephemeralDHKeySize=1024 \
    -Dhttpclient.hostnameVerifier=AllowAll \
    -Dorg.opensaml.httpclient.https.disableHostnameVerification=true \
    -Djava.security.egd=file:/dev/./urandom \
    org.wso2.carbon.bootstrap.Bootstrap $*
    status=$?
done
