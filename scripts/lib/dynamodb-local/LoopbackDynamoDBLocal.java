// LoopbackDynamoDBLocal runs DynamoDB Local exactly as its own main class
// does (same command-line arguments, parsed by DynamoDB Local itself), except
// that its HTTP connector listens on the address in the system property
// hooks.host (default 127.0.0.1) instead of every interface: DynamoDB Local
// has no option for that. scripts/stack compiles it once against the pinned
// DynamoDBLocal.jar and starts the emulator with it.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("hooks.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // DynamoDBProxyServer builds its Jetty server with new Server(port),
    // whose one connector listens on every interface; it keeps it private.
    Field f = DynamoDBProxyServer.class.getDeclaredField("server");
    f.setAccessible(true);
    Server jetty = (Server) f.get(proxy);
    Connector[] connectors = jetty.getConnectors();
    if (connectors.length == 0) {
      throw new IllegalStateException("DynamoDB Local has no connector to bind");
    }
    for (Connector c : connectors) {
      ((ServerConnector) c).setHost(host);
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on " + host);
  }
}
