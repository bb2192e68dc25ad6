var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres(ResourceNames.Postgres);
var mlsdb = postgres.AddDatabase(ResourceNames.MlsDb);
var gatewaydb = postgres.AddDatabase(ResourceNames.GatewayDb);
var redis = builder.AddRedis(ResourceNames.Redis);
var nats = builder.AddNats(ResourceNames.Nats).WithJetStream();

var membership = builder.AddProject(ResourceNames.MembershipWorker, "../Membership.Worker/Membership.Worker.csproj")
    .WithReference(nats).WaitFor(nats);

var mlsApi = builder.AddProject(ResourceNames.MlsApi, "../Mls.Api/Mls.Api.csproj")
    .WithEnvironment("SERVICE_DID", "did:web:mls.localhost")
    .WithReference(mlsdb).WaitFor(mlsdb)
    .WithReference(redis).WaitFor(redis)
    .WithReference(nats).WaitFor(nats);

var kasApi = builder.AddProject(ResourceNames.KasApi, "../Kas.Api/Kas.Api.csproj")
    .WithEnvironment("SERVICE_DID", "did:web:kas.localhost")
    .WithReference(redis).WaitFor(redis)
    .WithReference(nats).WaitFor(nats)
    .WaitFor(membership);

builder.AddProject(ResourceNames.CloudGateway, "../Cloud.Gateway/Cloud.Gateway.csproj")
    .WithExternalHttpEndpoints()
    .WithReference(gatewaydb).WaitFor(gatewaydb)
    .WithReference(redis).WaitFor(redis)
    .WithReference(mlsApi).WaitFor(mlsApi)
    .WithReference(kasApi).WaitFor(kasApi);

builder.Build().Run();
